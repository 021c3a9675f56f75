package utxo

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/vectors"
)

const abandonMnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

func vectorFor(t *testing.T, code, format string, testnet bool) vectors.Signing {
	for _, v := range vectors.SigningFor(code) {
		if v.Format == format && v.Testnet == testnet {
			return v
		}
	}
	t.Fatalf("no %s %s vector", code, format)
	return vectors.Signing{}
}

func wifAt(t testing.TB, c *Chain, index uint32, testnet bool) string {
	seed, err := chain.Seed(abandonMnemonic)
	if err != nil {
		t.Fatal(err)
	}
	k, err := c.PrivateKey(seed, index, testnet)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignRefusals(t *testing.T) {
	ctx := context.Background()
	v := vectorFor(t, "BTC", "tatum", false) // two inputs, keys at index 0 and 1
	keys := vectorKeys(v)
	ser := v.PendingTransaction.SerializedTransaction

	// One input's key missing: the error names the input, never a key.
	_, err := BTC.Sign(ctx, chain.SignRequest{Serialized: ser, Keys: keys[:1]})
	if !errors.Is(err, ErrKeyNotFound) || !strings.Contains(err.Error(), "input(s) 1 ") {
		t.Fatalf("missing key: %v", err)
	}
	// A key of the other network.
	_, err = BTC.Sign(ctx, chain.SignRequest{Serialized: ser, Testnet: true, Keys: keys})
	if !errors.Is(err, chain.ErrInvalidKey) || strings.Contains(err.Error(), keys[0]) {
		t.Fatalf("testnet flag with mainnet keys: %v", err)
	}
	// Fee cap: the vector pays 2001 sat.
	_, err = BTC.WithMaxFee(2000).Sign(ctx, chain.SignRequest{Serialized: ser, Keys: keys})
	if !errors.Is(err, ErrFeeTooHigh) || !strings.Contains(err.Error(), "fee 2001 exceeds the BTC cap of 2000") {
		t.Fatalf("fee cap: %v", err)
	}
	if _, err = BTC.WithMaxFee(2001).Sign(ctx, chain.SignRequest{Serialized: ser, Keys: keys}); err != nil {
		t.Fatalf("fee at the cap: %v", err)
	}
	if BTC.MaxFee() != DefaultMaxFee["BTC"] {
		t.Fatal("WithMaxFee changed the shared chain")
	}
	// Outputs above inputs: raise the first output by the fee + 1 (and drop
	// the now inconsistent hash and fee fields).
	var obj map[string]any
	if err := json.Unmarshal([]byte(ser), &obj); err != nil {
		t.Fatal(err)
	}
	delete(obj, "hash")
	delete(obj, "fee")
	out0 := obj["outputs"].([]any)[0].(map[string]any)
	out0["satoshis"] = out0["satoshis"].(float64) + 2002
	b, _ := json.Marshal(obj)
	_, err = BTC.Sign(ctx, chain.SignRequest{Serialized: string(b), Keys: keys})
	if !errors.Is(err, ErrOutputsExceedInputs) || !errors.Is(err, chain.ErrInvalidTx) {
		t.Fatalf("outputs > inputs: %v", err)
	}
	if err := BTC.ValidateTx(string(b), false); !errors.Is(err, ErrOutputsExceedInputs) {
		t.Fatalf("ValidateTx outputs > inputs: %v", err)
	}
	// An edited amount with the original hash is caught by the hash check.
	obj["hash"] = "4fc7e83484ba0bc551f423a08328519aa8074076b3712f12864f7a0fe1e6c191"
	b, _ = json.Marshal(obj)
	if err := BTC.ValidateTx(string(b), false); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("edited bitcore JSON: %v", err)
	}
	// BCH Tatum form: key i signs input i, so the key count must fit.
	bv := vectorFor(t, "BCH", "tatum", false) // two inputs
	bk := vectorKeys(bv)
	_, err = BCH.Sign(ctx, chain.SignRequest{Serialized: bv.PendingTransaction.SerializedTransaction, Keys: append(bk, bk[0])})
	if !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("BCH 3 keys for 2 inputs: %v", err)
	}
	// Cancelled context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := BTC.Sign(cctx, chain.SignRequest{Serialized: ser, Keys: keys}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := BTC.Sign(ctx, chain.SignRequest{Serialized: ser}); !errors.Is(err, chain.ErrInvalidKey) {
		t.Fatalf("no keys: %v", err)
	}
}

// DOGE: every input of the reference transactions passes btcd's script
// engine with Dogecoin's rules (no witness), and a tampered signature fails.
func TestDogeScriptEngine(t *testing.T) {
	for _, v := range vectors.SigningFor("DOGE") {
		got, err := DOGE.Sign(context.Background(), chain.SignRequest{Serialized: v.PendingTransaction.SerializedTransaction, Testnet: v.Testnet, Keys: vectorKeys(v)})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := DOGE.parse(v.PendingTransaction.SerializedTransaction)
		raw, _ := hex.DecodeString(got.TxData)
		signed := new(wire.MsgTx)
		if err := signed.Deserialize(bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		u.tx = signed
		prevs := map[wire.OutPoint]*wire.TxOut{}
		for i, in := range signed.TxIn {
			prevs[in.PreviousOutPoint] = wire.NewTxOut(u.amounts[i], u.scripts[i])
		}
		f := txscript.NewMultiPrevOutFetcher(prevs)
		if err := DOGE.verify(u, txscript.NewTxSigHashes(signed, f), f, nil); err != nil {
			t.Fatalf("%s: %v", v.PendingTransaction.ID, err)
		}
		signed.TxIn[0].SignatureScript[10] ^= 1 // inside the DER signature
		if err := DOGE.verify(u, txscript.NewTxSigHashes(signed, f), f, nil); err == nil {
			t.Fatalf("%s: tampered signature verified", v.PendingTransaction.ID)
		}
	}
}

// buildPSBT makes a one-output PSBT spending one UTXO per script.
func buildPSBT(t *testing.T, scripts [][]byte, amounts []int64, out int64, nonWitness bool) string {
	t.Helper()
	utxos := make([]*wire.TxOut, len(scripts))
	for i, s := range scripts {
		utxos[i] = wire.NewTxOut(amounts[i], s)
	}
	return handPSBT(t, utxos, []*wire.TxOut{wire.NewTxOut(out, scripts[0])}, 0, func(*wire.TxOut) bool { return !nonWitness })
}

// handPSBT is a PSBT made with btcd's psbt package: one input per UTXO,
// given as a witness UTXO where witnessUtxo says so and as the whole
// previous transaction otherwise, the outputs as given, and every input's
// sighash type (0: none stated).
func handPSBT(t testing.TB, utxos, outs []*wire.TxOut, sighash txscript.SigHashType, witnessUtxo func(*wire.TxOut) bool) string {
	t.Helper()
	tx := wire.NewMsgTx(2)
	var prevs []*wire.MsgTx
	for i, u := range utxos {
		prev := wire.NewMsgTx(2)
		prev.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{byte(i + 1)}, 0), nil, nil))
		prev.AddTxOut(u)
		h := prev.TxHash()
		tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&h, 0), nil, nil))
		prevs = append(prevs, prev)
	}
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	p, err := psbt.NewFromUnsignedTx(tx)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range utxos {
		if witnessUtxo(u) {
			p.Inputs[i].WitnessUtxo = u
		} else {
			p.Inputs[i].NonWitnessUtxo = prevs[i]
		}
		p.Inputs[i].SighashType = sighash
	}
	s, err := p.B64Encode()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// P2SH-P2WPKH and P2TR key-path inputs (no Tatum vectors exist for them) and
// a regtest spend: signed, then checked by btcd's script engine inside Sign and
// again here on the decoded output.
func TestSignScriptTypes(t *testing.T) {
	k0, k1 := wifAt(t, BTC, 0, true), wifAt(t, BTC, 1, true)
	w0, _ := btcutil.DecodeWIF(k0)
	w1, _ := btcutil.DecodeWIF(k1)
	pkh0 := btcutil.Hash160(w0.SerializePubKey())
	nested := append([]byte{txscript.OP_HASH160, txscript.OP_DATA_20}, btcutil.Hash160(p2wpkhScript(pkh0))...)
	nested = append(nested, txscript.OP_EQUAL)
	tr := append([]byte{txscript.OP_1, txscript.OP_DATA_32}, schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(w1.PrivKey.PubKey()))...)
	// A regtest node set up as BTC's testnet node: bcrt1q… addresses, testnet keys.
	bcrt, err := BTC.Address(w0.PrivKey.PubKey(), Regtest)
	if err != nil || !strings.HasPrefix(bcrt, "bcrt1q") {
		t.Fatalf("regtest address %s %v", bcrt, err)
	}
	a, err := btcutil.DecodeAddress(bcrt, &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	regScript, _ := txscript.PayToAddrScript(a)

	for name, tc := range map[string]struct {
		scripts [][]byte
		nonWit  bool
	}{
		"p2sh-p2wpkh":         {[][]byte{nested}, false},
		"p2tr":                {[][]byte{tr}, false},
		"p2tr+p2sh-p2wpkh":    {[][]byte{tr, nested}, true},
		"regtest-p2wpkh+p2tr": {[][]byte{regScript, tr}, false},
	} {
		amounts := make([]int64, len(tc.scripts))
		var sum int64
		for i := range amounts {
			amounts[i] = int64(100_000 * (i + 1))
			sum += amounts[i]
		}
		ser := buildPSBT(t, tc.scripts, amounts, sum-1000, tc.nonWit)
		if err := BTC.ValidateTx(ser, true); err != nil {
			t.Fatalf("%s: ValidateTx: %v", name, err)
		}
		got, err := BTC.Sign(context.Background(), chain.SignRequest{Serialized: ser, Testnet: true, Keys: []string{k1, k0}})
		if err != nil {
			t.Fatalf("%s: Sign: %v", name, err)
		}
		raw, _ := hex.DecodeString(got.TxData)
		tx := new(wire.MsgTx)
		if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		if tx.TxHash().String() != got.TxID {
			t.Fatalf("%s: txid mismatch", name)
		}
		prevs := map[wire.OutPoint]*wire.TxOut{}
		for i, in := range tx.TxIn {
			prevs[in.PreviousOutPoint] = wire.NewTxOut(amounts[i], tc.scripts[i])
		}
		f := txscript.NewMultiPrevOutFetcher(prevs)
		hashes := txscript.NewTxSigHashes(tx, f)
		for i := range tx.TxIn {
			vm, err := txscript.NewEngine(tc.scripts[i], tx, i, txscript.StandardVerifyFlags, nil, hashes, amounts[i], f)
			if err == nil {
				err = vm.Execute()
			}
			if err != nil {
				t.Fatalf("%s input %d: %v", name, i, err)
			}
			if isP2TR(tc.scripts[i]) && len(tx.TxIn[i].Witness[0]) != 64 {
				t.Fatalf("%s: taproot signature is not SIGHASH_DEFAULT", name)
			}
		}
		// Only key 0 given: the P2TR input (key 1) is refused by index.
		if strings.Contains(name, "p2tr") {
			if _, err := BTC.Sign(context.Background(), chain.SignRequest{Serialized: ser, Testnet: true, Keys: []string{k0}}); !errors.Is(err, ErrKeyNotFound) {
				t.Fatalf("%s: without the taproot key: %v", name, err)
			}
		}
	}
	// P2TR and segwit are refused where the chain has none.
	if err := DOGE.ValidateTx(buildPSBT(t, [][]byte{p2wpkhScript(pkh0)}, []int64{1000}, 900, true), true); !errors.Is(err, ErrUnsupportedInput) {
		t.Fatalf("DOGE P2WPKH: %v", err)
	}
	if err := LTC.ValidateTx(buildPSBT(t, [][]byte{tr}, []int64{1000}, 900, false), true); !errors.Is(err, ErrUnsupportedInput) {
		t.Fatalf("LTC P2TR: %v", err)
	}
}

func TestPSBTRefusals(t *testing.T) {
	k0 := wifAt(t, BTC, 0, true)
	w0, _ := btcutil.DecodeWIF(k0)
	script := p2wpkhScript(btcutil.Hash160(w0.SerializePubKey()))
	ser := buildPSBT(t, [][]byte{script}, []int64{5000}, 4000, false)
	edit := func(f func(*psbt.Packet)) string {
		q, _ := psbt.NewFromRawBytes(strings.NewReader(ser), true)
		f(q)
		s, err := q.B64Encode()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, tc := range map[string]struct {
		ser  string
		want string
	}{
		"no utxo":      {edit(func(q *psbt.Packet) { q.Inputs[0].WitnessUtxo = nil }), "neither witness_utxo nor non_witness_utxo"},
		"sighash none": {edit(func(q *psbt.Packet) { q.Inputs[0].SighashType = txscript.SigHashNone }), "sighash type 0x02"},
		"forkid":       {edit(func(q *psbt.Packet) { q.Inputs[0].SighashType = sigHashForkIDAll }), "sighash type 0x41"},
		"finalized":    {edit(func(q *psbt.Packet) { q.Inputs[0].FinalScriptWitness = []byte{1, 1, 1} }), "already finalized"},
		"wrong prevtx": {edit(func(q *psbt.Packet) {
			other := wire.NewMsgTx(1)
			other.AddTxIn(wire.NewTxIn(&wire.OutPoint{}, nil, nil))
			other.AddTxOut(wire.NewTxOut(5000, script))
			q.Inputs[0].NonWitnessUtxo = other
		}), "non_witness_utxo is not the transaction"},
		"bad base64": {psbtMagicB64 + "!!!", "not valid base64"},
		"truncated":  {ser[:len(ser)-12], "PSBT"},
	} {
		err := BTC.ValidateTx(tc.ser, true)
		if !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// BCH needs FORKID: a PSBT asking for plain SIGHASH_ALL is refused.
	bchSer := edit(func(q *psbt.Packet) {
		q.Inputs[0].WitnessUtxo.PkScript = p2pkhScript(btcutil.Hash160(w0.SerializePubKey()))
		q.Inputs[0].SighashType = txscript.SigHashAll
	})
	if err := BCH.ValidateTx(bchSer, true); err == nil || !strings.Contains(err.Error(), "only 0x41") {
		t.Fatalf("BCH with SIGHASH_ALL: %v", err)
	}
}

func TestGarbageRefused(t *testing.T) {
	bch := vectorFor(t, "BCH", "tatum", true).PendingTransaction.SerializedTransaction
	hexPart, _, _ := strings.Cut(bch, ":")
	for _, tc := range []struct {
		c    *Chain
		s    string
		want string
	}{
		{BTC, "", "neither bitcore transaction JSON nor a base64 PSBT"},
		{BTC, "hello", "neither bitcore"},
		{BTC, "0x" + hexPart, "neither bitcore"},
		{BTC, bch, "neither bitcore"},
		{BTC, "{}", "missing version"},
		{BTC, `{"version":2,"inputs":[],"outputs":[]}`, "at least one input"},
		{BTC, `{"version":2,"inputs":[{"prevTxId":"zz","outputIndex":0}],"outputs":[{"satoshis":1,"script":""}]}`, "prevTxId"},
		{BTC, `{"version":2,"inputs":[{"prevTxId":"` + strings.Repeat("ab", 32) + `","outputIndex":0}],"outputs":[{"satoshis":1,"script":""}]}`, "missing output"},
		{BTC, `{"version":2,"inputs":[{"prevTxId":"` + strings.Repeat("ab", 32) + `","outputIndex":0,"output":{"satoshis":-5,"script":"0014` + strings.Repeat("00", 20) + `"}}],"outputs":[{"satoshis":1,"script":""}]}`, "out of range"},
		{BTC, `{"version":2,"inputs":[{"prevTxId":"` + strings.Repeat("ab", 32) + `","outputIndex":0,"output":{"satoshis":5,"script":"6a"}}],"outputs":[{"satoshis":1,"script":""}]}`, "not P2PKH, P2WPKH"},
		{BTC, `{"version":2,"inputs":[{"prevTxId":"` + strings.Repeat("ab", 32) + `","outputIndex":0,"script":"00","output":{"satoshis":5,"script":"6a"}}],"outputs":[{"satoshis":1,"script":""}]}`, "already signed"},
		{BTC, `{"version":2,` + strings.Repeat(" ", 10), "bitcore JSON"},
		{BCH, "{}", "not bitcore JSON"},
		{BCH, "garbage", "neither"},
		{BCH, hexPart + ":", "JSON array"},
		{BCH, hexPart + ":[1,2]", "2 amounts for 1 inputs"},
		{BCH, hexPart + `:["1"]`, "JSON array"},
		{BCH, hexPart + "00:[240000]", "trailing bytes"},
		{BCH, "zz:[1]", "not hex"},
		{BCH, hexPart[:20] + ":[1]", "unsigned transaction"},
		{BCH, hexPart + ":[1]", "outputs exceed inputs"},
	} {
		err := tc.c.ValidateTx(tc.s, true)
		if !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %.40q: err = %v, want %q", tc.c.Info().Code, tc.s, err, tc.want)
		}
	}
}
