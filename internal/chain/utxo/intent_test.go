package utxo

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// vectorIntentFields are the parts of a UTXO row the intent is checked with:
// the vector's own sender addresses, the spent amounts (prevouts of a Tatum
// row, inputs of a native row) and the signed PSBT of the reference.
type vectorIntentFields struct {
	Expected struct {
		Signed     string   `json:"signed"`
		FromAll    []string `json:"from_all"`
		SignedPSBT string   `json:"signed_psbt"`
	}
	Spent []struct {
		Satoshis int64 `json:"satoshis"`
	}
}

func intentFieldsOf(t *testing.T, v vectors.Signing) vectorIntentFields {
	t.Helper()
	var f vectorIntentFields
	if err := json.Unmarshal(v.Expected, &f.Expected); err != nil {
		t.Fatal(err)
	}
	for _, raw := range []json.RawMessage{v.Prevouts, v.Inputs} {
		if len(raw) > 0 && string(raw) != "null" {
			if err := json.Unmarshal(raw, &f.Spent); err != nil {
				t.Fatal(err)
			}
		}
	}
	return f
}

// spentTotal is what the row's inputs hold: the vector's prevouts or inputs,
// or, for a row that lists neither, the UTXOs in the reference's signed PSBT
// as btcd's PSBT package reads them.
func (f vectorIntentFields) spentTotal(t *testing.T) int64 {
	t.Helper()
	var sum int64
	for _, s := range f.Spent {
		sum += s.Satoshis
	}
	if len(f.Spent) > 0 {
		return sum
	}
	p, err := psbt.NewFromRawBytes(strings.NewReader(f.Expected.SignedPSBT), true)
	if err != nil {
		t.Fatalf("no prevouts, inputs or signed PSBT in the row: %v", err)
	}
	for i, in := range p.Inputs {
		if in.WitnessUtxo != nil {
			sum += in.WitnessUtxo.Value
		} else {
			sum += in.NonWitnessUtxo.TxOut[p.UnsignedTx.TxIn[i].PreviousOutPoint.Index].Value
		}
	}
	return sum
}

// outputsOf are a row's outputs: the bitcore config's outputs, or those of
// the transaction the reference signed.
func outputsOf(t *testing.T, v vectors.Signing, f vectorIntentFields) []*wire.TxOut {
	t.Helper()
	ser := v.PendingTransaction.SerializedTransaction
	if strings.HasPrefix(ser, "{") {
		var cfg struct {
			Outputs []struct {
				Satoshis int64  `json:"satoshis"`
				Script   string `json:"script"`
			} `json:"outputs"`
		}
		if err := json.Unmarshal([]byte(ser), &cfg); err != nil {
			t.Fatal(err)
		}
		var outs []*wire.TxOut
		for _, o := range cfg.Outputs {
			s, _ := hex.DecodeString(o.Script)
			outs = append(outs, wire.NewTxOut(o.Satoshis, s))
		}
		return outs
	}
	raw, _ := hex.DecodeString(f.Expected.Signed)
	tx := new(wire.MsgTx)
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	return tx.TxOut
}

// paysScript reports whether address a, as the intent spells it on c's
// network, is the one script pays: read back by btcd's address decoder (or
// CashAddr's), never by the code that wrote it.
func paysScript(c *Chain, testnet bool, a string, script []byte) bool {
	if c.style == styleCashAddr {
		version, hash, err := cashDecode(c.cashPrefix[netOf(testnet)], a)
		if err != nil {
			return false
		}
		if version == cashP2SH {
			return bytes.Equal(script, append(append([]byte{txscript.OP_HASH160, txscript.OP_DATA_20}, hash...), txscript.OP_EQUAL))
		}
		return bytes.Equal(script, p2pkhScript(hash))
	}
	params := c.Params(netOf(testnet))
	if hrp, data, err := bech32.Decode(a); err == nil && params.Bech32HRPSegwit != "" && hrp == params.Bech32HRPSegwit {
		// btcutil decodes bech32 only for networks in chaincfg's registry,
		// where this package does not put Litecoin's.
		if len(data) == 0 || data[0] > 16 {
			return false
		}
		prog, err := bech32.ConvertBits(data[1:], 5, 8, false)
		op := byte(txscript.OP_0)
		if data[0] > 0 {
			op = txscript.OP_1 + data[0] - 1
		}
		s, _ := txscript.NewScriptBuilder().AddOp(op).AddData(prog).Script()
		return err == nil && bytes.Equal(s, script)
	}
	addr, err := btcutil.DecodeAddress(a, params)
	if err != nil || !addr.IsForNet(params) {
		return false
	}
	s, err := txscript.PayToAddrScript(addr)
	return err == nil && bytes.Equal(s, script)
}

// Every UTXO signing row decodes into what the vector says: its senders
// (expected.from_all, except in Tatum's BCH form, which does not name the
// spent scripts), its outputs and amounts, change to a sender, and the fee
// from the vector's own input amounts.
func TestIntentVectors(t *testing.T) {
	n := 0
	for _, code := range signingCodes {
		c := byCode(t, code)
		for _, v := range chaintest.SigningRows(t, code) {
			n++
			name := code + "/" + v.Format + "/" + v.PendingTransaction.ID
			f := intentFieldsOf(t, v)
			got, err := c.Intent(v.PendingTransaction.SerializedTransaction, v.Testnet)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			signers := f.Expected.FromAll
			if code == "BCH" && v.Format == "tatum" {
				signers = []string{}
			}
			if len(f.Expected.FromAll) == 0 || !reflect.DeepEqual(got.Signers, signers) {
				t.Errorf("%s: signers %v, want %v", name, got.Signers, signers)
			}
			net := map[bool]string{false: "mainnet", true: "testnet"}[v.Testnet]
			if got.Chain != code || got.Network != net || got.ChainID != "" || got.Sequence != nil || got.Calls != nil || got.Memo != "" {
				t.Errorf("%s: %s", name, js(got))
			}
			outs := outputsOf(t, v, f)
			var out int64
			for i, o := range outs {
				out += o.Value
				if i >= len(got.Transfers) {
					t.Errorf("%s: %d transfers for %d outputs", name, len(got.Transfers), len(outs))
					break
				}
				tr := got.Transfers[i]
				if tr.Amount != strconv.FormatInt(o.Value, 10) || tr.Asset != "" || !paysScript(c, v.Testnet, tr.To, o.PkScript) ||
					tr.Change != slices.Contains(signers, tr.To) {
					t.Errorf("%s: transfer %d = %+v, want %d to script %x", name, i, tr, o.Value, o.PkScript)
				}
			}
			if len(got.Transfers) != len(outs) {
				t.Errorf("%s: %d transfers for %d outputs", name, len(got.Transfers), len(outs))
			}
			if want := strconv.FormatInt(f.spentTotal(t)-out, 10); got.Fee == nil || *got.Fee != (intent.Fee{Max: want}) {
				t.Errorf("%s: fee %s, want max %s", name, js(got.Fee), want)
			}
		}
	}
	if want := countUTXORows(); n != 17 || n != want {
		t.Fatalf("decoded %d UTXO signing rows, want 17 and the vector file's %d", n, want)
	}
}

// isWitness gives a witness program's UTXO as a witness UTXO and any other
// as its whole previous transaction, as wallets do.
func isWitness(u *wire.TxOut) bool { return txscript.IsWitnessProgram(u.PkScript) }

func countUTXORows() int {
	n := 0
	for _, code := range signingCodes {
		n += vectors.CountRows("signing", code)
	}
	return n
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A BTC testnet PSBT spending P2WPKH, P2PKH and P2TR outputs to a P2WSH
// address, an OP_RETURN, a bare public key and change; and a BCH PSBT paying
// a P2SH CashAddr. Expected addresses come from btcutil's encoders and the
// CashAddr specification's examples.
func TestIntentPSBT(t *testing.T) {
	w0, _ := btcutil.DecodeWIF(wifAt(t, BTC, 0, true))
	w1, _ := btcutil.DecodeWIF(wifAt(t, BTC, 1, true))
	pkh0, pkh1 := btcutil.Hash160(w0.SerializePubKey()), btcutil.Hash160(w1.SerializePubKey())
	params := &chaincfg.TestNet3Params
	a0, _ := btcutil.NewAddressWitnessPubKeyHash(pkh0, params)
	a1, _ := btcutil.NewAddressPubKeyHash(pkh1, params)
	a2, _ := btcutil.NewAddressTaproot(schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(w1.PrivKey.PubKey())), params)
	wsh, _ := btcutil.NewAddressWitnessScriptHash(bytes.Repeat([]byte{0x5a}, 32), params)
	script := func(a btcutil.Address) []byte { s, _ := txscript.PayToAddrScript(a); return s }
	memo, _ := txscript.NullDataScript([]byte("invoice 42"))
	bare, _ := txscript.NewScriptBuilder().AddData(w1.SerializePubKey()).AddOp(txscript.OP_CHECKSIG).Script()
	ser := handPSBT(t,
		[]*wire.TxOut{wire.NewTxOut(50_000, script(a0)), wire.NewTxOut(70_000, script(a1)), wire.NewTxOut(30_000, script(a2))},
		[]*wire.TxOut{wire.NewTxOut(100_000, script(wsh)), wire.NewTxOut(0, memo), wire.NewTxOut(546, bare), wire.NewTxOut(48_000, script(a0))},
		0, isWitness)
	got, err := BTC.Intent(ser, true)
	if err != nil {
		t.Fatal(err)
	}
	want := intent.Intent{Chain: "BTC", Network: "testnet",
		Signers: []string{a0.EncodeAddress(), a1.EncodeAddress(), a2.EncodeAddress()},
		Transfers: []intent.Transfer{{To: wsh.EncodeAddress(), Amount: "100000"},
			{To: "script:" + hex.EncodeToString(bare), Amount: "546"},
			{To: a0.EncodeAddress(), Amount: "48000", Change: true}},
		Fee:    &intent.Fee{Max: strconv.Itoa(150_000 - 148_546)},
		Memo:   hex.EncodeToString([]byte("invoice 42")),
		Inputs: outpointsOf(t, ser)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BTC PSBT:\n got %s\nwant %s", js(got), js(want))
	}
	// The signer agrees: the keys of the three inputs sign it.
	if _, err := BTC.Sign(context.Background(), chain.SignRequest{Serialized: ser, Testnet: true,
		Keys: []string{wifAt(t, BTC, 0, true), wifAt(t, BTC, 1, true)}}); err != nil {
		t.Errorf("Sign: %v", err)
	}

	// CashAddr specification examples: hash 76a04053bda0a88bda5177b86a15c3b29f559873.
	h, _ := hex.DecodeString("76a04053bda0a88bda5177b86a15c3b29f559873")
	p2sh := append(append([]byte{txscript.OP_HASH160, txscript.OP_DATA_20}, h...), txscript.OP_EQUAL)
	burn, _ := txscript.NullDataScript([]byte{0xca, 0xfe})
	ser = handPSBT(t, []*wire.TxOut{wire.NewTxOut(9_000, p2pkhScript(h))},
		[]*wire.TxOut{wire.NewTxOut(5_000, p2sh), wire.NewTxOut(1_000, burn), wire.NewTxOut(2_500, p2pkhScript(h))}, sigHashForkIDAll, isWitness)
	got, err = BCH.Intent(ser, false)
	if err != nil {
		t.Fatal(err)
	}
	want = intent.Intent{Chain: "BCH", Network: "mainnet",
		Signers: []string{"bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"},
		Transfers: []intent.Transfer{{To: "bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq", Amount: "5000"},
			{To: "script:" + hex.EncodeToString(burn), Amount: "1000"},
			{To: "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", Amount: "2500", Change: true}},
		Fee: &intent.Fee{Max: "500"}, Memo: "cafe", Inputs: outpointsOf(t, ser)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BCH PSBT:\n got %s\nwant %s", js(got), js(want))
	}
}

// outpointsOf are the outpoints a PSBT's inputs spend, "txid:vout", as
// btcd's PSBT package reads them.
func outpointsOf(t *testing.T, ser string) []string {
	t.Helper()
	p, err := psbt.NewFromRawBytes(strings.NewReader(ser), true)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range p.UnsignedTx.TxIn {
		out = append(out, fmt.Sprintf("%s:%d", in.PreviousOutPoint.Hash, in.PreviousOutPoint.Index))
	}
	return out
}

// Intent refuses what Sign refuses before keys: garbage, a form the chain
// does not take, an input type the chain cannot spend, and one outpoint
// spent twice.
func TestIntentRefuses(t *testing.T) {
	w0, _ := btcutil.DecodeWIF(wifAt(t, BTC, 0, true))
	wpkh := p2wpkhScript(btcutil.Hash160(w0.SerializePubKey()))
	twice := func() string {
		ser := handPSBT(t, []*wire.TxOut{wire.NewTxOut(5_000, wpkh), wire.NewTxOut(5_000, wpkh)},
			[]*wire.TxOut{wire.NewTxOut(9_000, wpkh)}, 0, isWitness)
		p, _ := psbt.NewFromRawBytes(strings.NewReader(ser), true)
		p.UnsignedTx.TxIn[1].PreviousOutPoint = p.UnsignedTx.TxIn[0].PreviousOutPoint
		s, _ := p.B64Encode()
		return s
	}()
	if _, err := BTC.Sign(context.Background(), chain.SignRequest{Serialized: twice, Testnet: true, Keys: []string{wifAt(t, BTC, 0, true)}}); !errors.Is(err, chain.ErrInvalidTx) {
		t.Fatalf("Sign of an outpoint spent twice: %v", err)
	}
	cases := []struct {
		c *Chain
		s string
	}{
		{BTC, twice},
		{DOGE, handPSBT(t, []*wire.TxOut{wire.NewTxOut(5_000, wpkh)}, []*wire.TxOut{wire.NewTxOut(4_000, wpkh)}, 0, isWitness)},
		{BCH, vectorFor(t, "BTC", "tatum", true).PendingTransaction.SerializedTransaction},
		{BTC, vectorFor(t, "BCH", "tatum", true).PendingTransaction.SerializedTransaction},
	}
	for _, g := range chaintest.CommonGarbage {
		for _, c := range all {
			cases = append(cases, struct {
				c *Chain
				s string
			}{c, g})
		}
	}
	for i, tc := range cases {
		if _, err := tc.c.Intent(tc.s, true); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("#%d %s %.40q: %v", i, tc.c.Info().Code, tc.s, err)
		}
	}
}

// FuzzIntent: Intent never panics, refuses only with ErrInvalidTx, and agrees
// with Sign: what Intent refuses Sign refuses; what it accepts Sign refuses
// only for want of a key or over the fee cap; and what Sign signs pays the
// intent's transfers and fee.
func FuzzIntent(f *testing.F) {
	seedVectors(f, func(string) bool { return true })
	w0, _ := btcutil.DecodeWIF(wifAt(f, BTC, 0, true))
	wpkh := p2wpkhScript(btcutil.Hash160(w0.SerializePubKey()))
	memo, _ := txscript.NullDataScript([]byte("m"))
	f.Add(handPSBT(f, []*wire.TxOut{wire.NewTxOut(5_000, wpkh), wire.NewTxOut(7_000, p2pkhScript(btcutil.Hash160(w0.SerializePubKey())))},
		[]*wire.TxOut{wire.NewTxOut(9_000, wpkh), wire.NewTxOut(0, memo)}, 0, isWitness))
	keys := map[*Chain]map[bool][]string{}
	for _, c := range all {
		keys[c] = map[bool][]string{false: {wifAt(f, c, 0, false)}, true: {wifAt(f, c, 0, true)}}
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range all {
			for _, testnet := range []bool{false, true} {
				fuzzIntentOne(t, c, s, testnet, keys[c][testnet])
			}
		}
	})
}

func fuzzIntentOne(t *testing.T, c *Chain, s string, testnet bool, keys []string) {
	code := c.Info().Code
	in, err := c.Intent(s, testnet)
	signed, serr := c.Sign(context.Background(), chain.SignRequest{Serialized: s, Testnet: testnet, Keys: keys})
	if err != nil {
		if !errors.Is(err, chain.ErrInvalidTx) {
			t.Fatalf("%s: refusal is not ErrInvalidTx: %v", code, err)
		}
		if serr == nil {
			t.Fatalf("%s: Intent refused (%v) what Sign signed", code, err)
		}
		return
	}
	if serr != nil {
		if !errors.Is(serr, ErrKeyNotFound) && !errors.Is(serr, ErrFeeTooHigh) {
			t.Fatalf("%s: Intent accepted what Sign refuses: %v", code, serr)
		}
		return
	}
	raw, _ := hex.DecodeString(signed.TxData)
	tx := new(wire.MsgTx)
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		t.Fatalf("%s: signed output does not decode: %v", code, err)
	}
	fee, _ := strconv.ParseInt(in.Fee.Max, 10, 64)
	var k int
	for _, o := range tx.TxOut {
		if o.Value == 0 && len(o.PkScript) > 0 && o.PkScript[0] == txscript.OP_RETURN {
			continue
		}
		if k >= len(in.Transfers) || in.Transfers[k].Amount != strconv.FormatInt(o.Value, 10) {
			t.Fatalf("%s: intent %s does not list output %d of %s", code, js(in), k, signed.TxData)
		}
		k++
	}
	if k != len(in.Transfers) || fee < 0 || fee > c.MaxFee() {
		t.Fatalf("%s: intent %s does not describe %s", code, js(in), signed.TxData)
	}
}
