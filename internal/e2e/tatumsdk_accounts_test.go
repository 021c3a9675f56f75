package e2e

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/broadcast/nodetest"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/chain/xrp"
	"github.com/custoskms/custos/internal/e2e/tatumsdk"
	"github.com/custoskms/custos/internal/walletstore"
)

// sdkAccountCase is an account chain driven through Tatum's SDK: its node
// double, the transaction queued in Tatum's form (the server completes what
// it leaves out from the double) and the wallet as Tatum KMS holds it.
type sdkAccountCase struct {
	node   http.Handler
	path   string // the node's base path on the double's listener
	tx     string
	wallet tatumsdk.Wallet
	// received is what the double accepted, by the id it answered: each
	// signed transaction in the form the SDK wrote it, or its id when the
	// id covers every byte of it (XRP's hash of the signed blob).
	received func() map[string]string
	// exact compares the SDK's signed transaction with what the double
	// received for id.
	exact func(txData, received string) bool
	// read, when set, says why the SDK's reads through the server's node
	// gateway did not reach the double ("" when they did).
	read func() string
	// departs, when set, says how the SDK's signed transaction departs from
	// the queued one ("" when it is the queued one).
	departs func(txData string) string
}

// sdkAccountChains builds, per chain whose node has no local build (the
// account chains and DOGE), its case for the wallet key of the chain's first
// testnet vector (sender is its address).
var sdkAccountChains = []struct {
	code  string
	build func(t *testing.T, key, sender string) sdkAccountCase
}{
	{"XLM", func(t *testing.T, key, sender string) sdkAccountCase {
		f := &nodetest.Horizon{T: t, Seq: map[string]int64{sender: 123 << 32}}
		var env xdr.TransactionEnvelope
		if err := xdr.SafeUnmarshalBase64(testnetRow(t, "XLM").PendingTransaction.SerializedTransaction, &env); err != nil {
			t.Fatal(err)
		}
		// The server fills sequence, fee and time bounds from Horizon.
		env.V1.Tx.SeqNum, env.V1.Tx.Fee, env.V1.Tx.Cond = 0, 0, xdr.Preconditions{Type: xdr.PreconditionTypePrecondNone}
		tx, _ := xdr.MarshalBase64(env)
		return sdkAccountCase{node: f, path: "/horizon", tx: tx, wallet: tatumsdk.Wallet{Secret: key},
			received: func() map[string]string {
				envs, ids := f.Accepted()
				out := map[string]string{}
				for i, e := range envs {
					out[ids[i]], _ = xdr.MarshalBase64(e)
				}
				return out
			},
			exact: func(txData, got string) bool { return txData == got }}
	}},
	{"XRP", func(t *testing.T, key, sender string) sdkAccountCase {
		f := &nodetest.Rippled{T: t, Seq: map[string]uint32{sender: 41}, Validated: 90_000_000}
		// The server fills Fee, Sequence and LastLedgerSequence from rippled.
		tx := `{"TransactionType":"Payment","Account":"` + sender + `","Destination":"rNsoKrTUnqRBWUAKeeFo7veNo5XepQyVvN","Amount":"1000000","Flags":2147483648}`
		return sdkAccountCase{node: f, tx: tx, wallet: tatumsdk.Wallet{Secret: key},
			received: func() map[string]string {
				_, ids := f.Applied()
				out := map[string]string{}
				for _, id := range ids {
					out[id] = id
				}
				return out
			},
			// An XRP transaction id is the hash of the whole signed blob.
			exact: func(txData, got string) bool { id, err := xrp.TxID(txData); return err == nil && id == got }}
	}},
	{"TRON", func(t *testing.T, key, _ string) sdkAccountCase {
		f := &nodetest.Tron{T: t}
		f.Now.Store(1_900_000_000_000)
		// The server fills the reference block, expiration, timestamp and txID.
		tx, _ := nodetest.TronIncomplete(t)
		return sdkAccountCase{node: f, tx: tx, wallet: tatumsdk.Wallet{PrivateKey: key},
			received: func() map[string]string {
				out := map[string]string{}
				for i, b := range f.Bodies() {
					out[f.IDs()[i]] = b
				}
				return out
			},
			exact: func(txData, got string) bool { return txData == got },
			read: func() string {
				if f.NodeInfo.Load() == 0 {
					return "TronWeb's wallet/getnodeinfo never reached the node through /v3/tron/node/{apiKey}"
				}
				return ""
			}}
	}},
	{"EGLD", func(t *testing.T, key, sender string) sdkAccountCase {
		// The SDK reads the nonce, the network config and the gas limit
		// through the server's node gateway: a signature the double takes
		// has them from there.
		f := &nodetest.Gateway{T: t, ChainID: "T", Nonce: map[string]uint64{sender: 9}}
		return sdkAccountCase{node: f, tx: testnetRow(t, "EGLD").PendingTransaction.SerializedTransaction,
			wallet:   tatumsdk.Wallet{PrivateKey: key},
			received: func() map[string]string { return byID(f.Accepted()) },
			exact:    func(txData, got string) bool { return txData == got }}
	}},
	{"DOGE", func(t *testing.T, key, _ string) sdkAccountCase {
		// The queued transaction in Tatum's bitcore JSON; the double holds
		// the outputs it spends and checks each input's signature on them.
		tx := testnetRow(t, "DOGE").PendingTransaction.SerializedTransaction
		q := parseBitcore(t, tx)
		f := &nodetest.Bitcoind{T: t, UTXOs: map[wire.OutPoint]*wire.TxOut{}}
		for i, in := range q.TxIn {
			f.UTXOs[in.PreviousOutPoint] = q.spent[i]
		}
		return sdkAccountCase{node: f, tx: tx, wallet: tatumsdk.Wallet{PrivateKey: key},
			received: func() map[string]string { return byID(f.Accepted()) },
			exact:    func(txData, got string) bool { return txData == got },
			departs:  q.departs}
	}},
}

// queuedUTXO is a transaction queued in Tatum's bitcore JSON (JSON.stringify
// of a bitcore-lib Transaction), read independently of the server: what it
// spends and pays.
type queuedUTXO struct {
	wire.MsgTx
	spent []*wire.TxOut // the output each input spends
}

func parseBitcore(t *testing.T, s string) queuedUTXO {
	t.Helper()
	type output struct {
		Satoshis int64  `json:"satoshis"`
		Script   string `json:"script"`
	}
	var b struct {
		Inputs []struct {
			PrevTxID    string `json:"prevTxId"`
			OutputIndex uint32 `json:"outputIndex"`
			Output      output `json:"output"`
		} `json:"inputs"`
		Outputs []output `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(s), &b); err != nil {
		t.Fatal(err)
	}
	out := func(o output) *wire.TxOut {
		script, err := hex.DecodeString(o.Script)
		if err != nil {
			t.Fatal(err)
		}
		return wire.NewTxOut(o.Satoshis, script)
	}
	var q queuedUTXO
	for _, in := range b.Inputs {
		h, err := chainhash.NewHashFromStr(in.PrevTxID)
		if err != nil {
			t.Fatal(err)
		}
		q.AddTxIn(wire.NewTxIn(wire.NewOutPoint(h, in.OutputIndex), nil, nil))
		q.spent = append(q.spent, out(in.Output))
	}
	for _, o := range b.Outputs {
		q.AddTxOut(out(o))
	}
	return q
}

// departs says how the signed transaction txData (hex) differs from the
// queued one in the outputs it spends or the outputs it pays.
func (q queuedUTXO) departs(txData string) string {
	raw, err := hex.DecodeString(txData)
	tx := new(wire.MsgTx)
	if err != nil || tx.Deserialize(bytes.NewReader(raw)) != nil {
		return "the signed transaction is not a hex transaction"
	}
	if len(tx.TxIn) != len(q.TxIn) || len(tx.TxOut) != len(q.TxOut) {
		return fmt.Sprintf("%d inputs and %d outputs, queued %d and %d", len(tx.TxIn), len(tx.TxOut), len(q.TxIn), len(q.TxOut))
	}
	for i, in := range tx.TxIn {
		if in.PreviousOutPoint != q.TxIn[i].PreviousOutPoint {
			return fmt.Sprintf("input %d spends %v, queued %v", i, in.PreviousOutPoint, q.TxIn[i].PreviousOutPoint)
		}
	}
	for i, o := range tx.TxOut {
		if w := q.TxOut[i]; o.Value != w.Value || !bytes.Equal(o.PkScript, w.PkScript) {
			return fmt.Sprintf("output %d pays %d to %x, queued %d to %x", i, o.Value, o.PkScript, w.Value, w.PkScript)
		}
	}
	return ""
}

// TestTatumSDKSignsAccountChains runs Tatum's SDK v1 signers, unmodified,
// for the chains whose node has only a local double (the account chains and
// DOGE, whose signer works offline on Tatum's bitcore JSON): a transfer is
// queued through POST /v3/kms in Tatum's form, the server completes it from
// the double, kms.js fetches it, signs it with the SDK's KMS signing
// function (which may call the server's node gateway of the chain) and
// broadcasts it with the SDK through the server to the double, which checks
// signature and sequence. The double must have received exactly what the
// SDK signed, what the SDK signed must be the queued transaction where the
// case can tell (DOGE: the inputs spent and outputs paid), and GET
// /v3/kms/{id} must show the id the double answered.
func TestTatumSDKSignsAccountChains(t *testing.T) {
	tatumsdk.Dir(t)
	var specs []broadcast.NodeSpec
	cases := map[string]sdkAccountCase{}
	var codes []string
	for _, c := range sdkAccountChains {
		r := testnetRow(t, c.code)
		key := chaintest.VectorKey(r)
		d, err := chains.Lookup(c.code)
		if err != nil {
			t.Fatal(err)
		}
		sender, err := d.(chain.Deriver).AddressFromPrivateKey(key, true)
		if err != nil {
			t.Fatal(err)
		}
		ac := c.build(t, key, sender)
		srv := httptest.NewServer(ac.node)
		t.Cleanup(srv.Close)
		specs = append(specs, broadcast.NodeSpec{Chain: c.code, Testnet: true, URL: srv.URL + ac.path})
		ac.wallet.SignatureID, ac.wallet.Chain = walletstore.NewID(), c.code
		cases[c.code] = ac
		codes = append(codes, c.code)
	}
	s := newNodesStack(t, true, specs)

	ids := map[string]string{} // pending id → chain
	var wallets []tatumsdk.Wallet
	for _, code := range codes {
		ac := cases[code]
		var out struct{ ID string }
		body := map[string]any{"chain": code, "serializedTransaction": ac.tx, "hashes": []string{ac.wallet.SignatureID}}
		if st := s.apiDo(http.MethodPost, "/v3/kms", body, &out); st != http.StatusOK {
			t.Fatalf("POST /v3/kms %s: %d", code, st)
		}
		ids[out.ID] = code
		wallets = append(wallets, ac.wallet)
	}

	results := tatumsdk.Sign(t, s.srv.URL, s.apiKey, codes, wallets)

	for id, code := range ids {
		r, ok := results[id]
		switch {
		case !ok:
			t.Errorf("%s %s: the harness did not receive it as pending", code, id)
			continue
		case !r.Signed:
			t.Errorf("%s %s: Tatum's SDK did not sign it: %s", code, id, r.Error)
			continue
		case !r.Broadcast:
			t.Errorf("%s %s: broadcast through Custos failed: %s", code, id, r.Error)
			continue
		}
		got := s.get(id)
		received := cases[code].received()
		if len(received) != 1 {
			t.Errorf("%s %s: the node accepted %d transactions, want 1", code, id, len(received))
		}
		sent, ok := received[got.TxID]
		switch {
		case got.TxID == "" || !ok:
			t.Errorf("%s %s: Custos shows txId %q, the node accepted %v", code, id, got.TxID, keys(received))
		case !strings.EqualFold(got.TxID, r.TxID):
			t.Errorf("%s %s: Custos shows txId %q, the broadcast answered %q", code, id, got.TxID, r.TxID)
		case !cases[code].exact(r.TxData, sent):
			t.Errorf("%s %s: the node received\n%s\nthe SDK signed\n%s", code, id, sent, r.TxData)
		}
		if read := cases[code].read; read != nil && read() != "" {
			t.Errorf("%s %s: %s", code, id, read())
		}
		if departs := cases[code].departs; departs != nil && departs(r.TxData) != "" {
			t.Errorf("%s %s: the SDK signed another transaction than the queued one: %s", code, id, departs(r.TxData))
		}
	}
}

// byID is what a double accepted, keyed by the id it answered for each.
func byID(sent, ids []string) map[string]string {
	out := map[string]string{}
	for i, b := range sent {
		out[ids[i]] = b
	}
	return out
}

// keys are a map's keys, for messages.
func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
