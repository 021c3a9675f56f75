package broadcast

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/utxo"
)

// A signed BTC testnet transaction from the shared signing vectors.
const utxoSigned = "0200000000010185e0814cfd1831af8a9d543481d58a5afe547ed0b4180fc310f003e435d3e1920000000000ffffffff02f149020000000000160014f903f7f95fa5180e45eb5fed1424f3edd4bddf7f1e420200000000001600143a2d4145a4f098523b3e8127f1da87cfc55b8e7902483045022100e2646bc413371d22ab59f881002527d6e3a7230ac6a9b15ca00ba2fea015761902205dc22e0926120b0ca7a2d6010d1e6093012fee289914d463b4a23006bbe56807012102a7451395735369f2ecdfc829c0f774e88ef1303dfe5b2f04dbaab30a535dfdd600000000"
const utxoSignedID = "b65d7bd55c1479ed54e26aa2895189f1cf9312453acce9545f37a836689ed771"

// The client's request, checked field by field by a local server that answers
// as bitcoind does (JSON-RPC errors with HTTP 500).
func TestUTXOBroadcastPayload(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		answer  string
		wantErr error
	}{
		{"accepted", 200, `{"result":"` + utxoSignedID + `","error":null,"id":1}`, nil},
		{"in mempool", 500, `{"result":null,"error":{"code":-26,"message":"txn-already-in-mempool"},"id":1}`, nil},
		{"in chain", 500, `{"result":null,"error":{"code":-27,"message":"Transaction already in block chain"},"id":1}`, nil},
		{"btcd has it", 500, `{"result":null,"error":{"code":-22,"message":"TX rejected: already have transaction 00"},"id":1}`, nil},
		{"rejected", 500, `{"result":null,"error":{"code":-26,"message":"min relay fee not met"},"id":1}`, ErrRejected},
		{"wrong txid", 200, `{"result":"` + strings.Repeat("00", 32) + `","error":null,"id":1}`, ErrUnavailable},
		{"garbage", 502, `<html>bad gateway</html>`, ErrUnavailable},
		{"unauthorized", 401, ``, ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				user, pass, ok := r.BasicAuth()
				var req struct {
					Method string
					Params []string
				}
				body, _ := io.ReadAll(r.Body)
				if r.Method != http.MethodPost || !ok || user != "u" || pass != "s3cret" || json.Unmarshal(body, &req) != nil ||
					req.Method != "sendrawtransaction" || len(req.Params) != 1 || req.Params[0] != utxoSigned {
					t.Errorf("unexpected request %s %s", r.Method, body)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.answer)
			}))
			defer srv.Close()
			c, err := DialUTXO(strings.Replace(srv.URL, "http://", "http://u:s3cret@", 1))
			if err != nil {
				t.Fatal(err)
			}
			id, err := c.Broadcast(context.Background(), utxoSigned)
			if !errors.Is(err, tc.wantErr) || (err == nil && id != utxoSignedID) {
				t.Fatalf("Broadcast = %s, %v", id, err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Fatal("error shows the password")
			}
		})
	}
	c, _ := DialUTXO("http://127.0.0.1:1")
	if _, err := c.Broadcast(context.Background(), "zz"); !errors.Is(err, ErrRejected) {
		t.Fatalf("bad hex: %v", err)
	}
	if _, err := c.Broadcast(context.Background(), utxoSigned); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("closed port: %v", err)
	}
	if _, err := DialUTXO("ftp://x"); !errors.Is(err, ErrBadNode) {
		t.Fatalf("ftp URL: %v", err)
	}
}

// btcdBinary finds btcd v0.24.2: $CUSTOS_BTCD, which the test command sets
// (scripts/setup.d/utxo-nodes.sh installs btcd), else PATH. Without it the
// test skips on a developer's machine and fails under CI=true, so that CI never
// passes without running it.
func btcdBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CUSTOS_BTCD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CUSTOS_BTCD=%s: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("btcd"); err == nil {
		return p
	}
	msg := "btcd not found: set CUSTOS_BTCD or put btcd on PATH (scripts/test installs it through scripts/setup.d/utxo-nodes.sh)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func utxoFreePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// End to end against a real btcd in regtest, configured as the BTC testnet
// node: a P2PKH coinbase is spent to a P2WPKH (bcrt1q) address, then that
// output and another coinbase (two wallets, two script types) are spent in one
// transaction; the node accepts and mines both, with the txids Sign computed.
func TestUTXOBroadcastBtcdRegtest(t *testing.T) {
	bin := btcdBinary(t)
	seed, _ := chain.Seed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	key0, _ := utxo.BTC.PrivateKey(seed, 0, true)
	key1, _ := utxo.BTC.PrivateKey(seed, 1, true)
	w0, _ := btcutil.DecodeWIF(key0)
	w1, _ := btcutil.DecodeWIF(key1)
	reg := &chaincfg.RegressionNetParams
	mining, _ := btcutil.NewAddressPubKeyHash(btcutil.Hash160(w0.SerializePubKey()), reg)
	segAddr, _ := utxo.BTC.Address(w1.PrivKey.PubKey(), utxo.Regtest)
	seg, err := btcutil.DecodeAddress(segAddr, reg)
	if err != nil || !strings.HasPrefix(segAddr, "bcrt1q") {
		t.Fatalf("regtest address %s: %v", segAddr, err)
	}

	dir := t.TempDir()
	rpcAddr := utxoFreePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--regtest", "--datadir="+filepath.Join(dir, "data"), "--logdir="+filepath.Join(dir, "log"),
		"--rpcuser=u", "--rpcpass=p", "--rpclisten="+rpcAddr, "--listen="+utxoFreePort(t), "--notls", "--nodnsseed",
		"--miningaddr="+mining.EncodeAddress(), "--txindex")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	c, err := DialUTXO("http://u:p@" + rpcAddr)
	if err != nil {
		t.Fatal(err)
	}
	rpc := func(method string, result any, params ...any) {
		t.Helper()
		code, msg, err := c.call(ctx, method, params, result)
		if err != nil || msg != "" {
			t.Fatalf("%s: %v %d %s", method, err, code, msg)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var n int64
		if _, msg, err := c.call(ctx, "getblockcount", nil, &n); err == nil && msg == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("btcd did not answer")
		}
	}
	var hashes []string
	rpc("generate", &hashes, 440) // coinbase maturity (100) and segwit activation on regtest

	coinbase := func(height int) *wire.MsgTx {
		var block struct{ Tx []string }
		rpc("getblock", &block, hashes[height-1], 1)
		var raw string
		rpc("getrawtransaction", &raw, block.Tx[0], 0)
		b, _ := hex.DecodeString(raw)
		tx := new(wire.MsgTx)
		if err := tx.Deserialize(bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	mined := func(txid string) {
		var ids []string
		rpc("generate", &ids, 1)
		var block struct{ Tx []string }
		rpc("getblock", &block, ids[0], 1)
		for _, id := range block.Tx {
			if id == txid {
				return
			}
		}
		t.Fatalf("%s not mined", txid)
	}
	lookup := func(signed chain.Signed) Outcome {
		t.Helper()
		o, err := c.Lookup(ctx, signed.TxID, signed.TxData)
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		return o
	}
	sign := func(prevs []*wire.MsgTx, vouts []uint32, to []byte, fee int64, keys ...string) chain.Signed {
		tx := wire.NewMsgTx(2)
		var sum int64
		for i, p := range prevs {
			h := p.TxHash()
			tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&h, vouts[i]), nil, nil))
			sum += p.TxOut[vouts[i]].Value
		}
		tx.AddTxOut(wire.NewTxOut(sum-fee, to))
		pk, err := psbt.NewFromUnsignedTx(tx)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range prevs {
			pk.Inputs[i].NonWitnessUtxo = p
		}
		ser, _ := pk.B64Encode()
		signed, err := utxo.BTC.Sign(ctx, chain.SignRequest{Serialized: ser, Testnet: true, Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	spend := func(prevs []*wire.MsgTx, vouts []uint32, to []byte, fee int64, keys ...string) chain.Signed {
		signed := sign(prevs, vouts, to, fee, keys...)
		id, err := c.Broadcast(ctx, signed.TxData)
		if err != nil || id != signed.TxID {
			t.Fatalf("Broadcast = %s, %v (want %s)", id, err, signed.TxID)
		}
		// A second submission of the same transaction is not a failure.
		if id2, err := c.Broadcast(ctx, signed.TxData); err != nil || id2 != id {
			t.Fatalf("rebroadcast = %s, %v", id2, err)
		}
		if o := lookup(signed); o.Progress != Pending {
			t.Fatalf("in the mempool: %+v, want Pending", o)
		}
		mined(id)
		if o := lookup(signed); o.Progress != Mined || o.Confirmations != 1 || o.BlockNumber != uint64(len(hashes))+1 {
			t.Fatalf("mined: %+v, want one confirmation", o)
		}
		hashes = append(hashes, "")
		return signed
	}
	segScript, _ := txscript.PayToAddrScript(seg)
	first := spend([]*wire.MsgTx{coinbase(1)}, []uint32{0}, segScript, 10_000, key0)
	firstRaw, _ := hex.DecodeString(first.TxData)
	firstTx := new(wire.MsgTx)
	_ = firstTx.Deserialize(bytes.NewReader(firstRaw))
	if firstTx.TxHash() != mustHash(t, first.TxID) {
		t.Fatal("txid")
	}
	// Two wallets' inputs (P2WPKH of key1, P2PKH coinbase of key0), keys in any order.
	miningScript, _ := txscript.PayToAddrScript(mining)
	spend([]*wire.MsgTx{firstTx, coinbase(2)}, []uint32{0, 0}, miningScript, 20_000, key0, key1)

	if o := lookup(first); o.Confirmations != 2 {
		t.Fatalf("a block later: %+v, want two confirmations", o)
	}
	// Never sent and its input unspent: the node does not know it and the
	// same bytes are still valid. Never sent and its input spent by the
	// second spend: a double spend that lost.
	if o := lookup(sign([]*wire.MsgTx{coinbase(3)}, []uint32{0}, segScript, 10_000, key0)); o.Progress != Missing {
		t.Fatalf("unsent with its input unspent: %+v, want Missing", o)
	}
	if o := lookup(sign([]*wire.MsgTx{coinbase(2)}, []uint32{0}, segScript, 30_000, key0)); o.Progress != Dropped || o.Error == "" {
		t.Fatalf("unsent with its input spent: %+v, want Dropped", o)
	}

	// The node refuses a double spend: ErrRejected with its reason.
	_, err = c.Broadcast(ctx, first.TxData[:len(first.TxData)-8]+"01000000")
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("modified tx: %v", err)
	}
}

func mustHash(t *testing.T, s string) chainhash.Hash {
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return *h
}
