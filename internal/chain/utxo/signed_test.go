package utxo

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// Every UTXO signing row's expected.signed decodes into the intent of the
// row's unsigned transaction: the same outputs, memo and spent outpoints,
// with the vector's senders (expected.from_all) as its signers, read from
// the keys the inputs reveal; and it passes the broadcast check against it.
// Only the unsigned side has the fee (a signed transaction does not carry
// the inputs' amounts); only the signed side the signers of Tatum's BCH
// form, and with them the change marks.
func TestSignedIntentVectors(t *testing.T) {
	n := 0
	for _, code := range signingCodes {
		c := byCode(t, code)
		for _, v := range chaintest.SigningRows(t, code) {
			n++
			name := code + "/" + v.Format + "/" + v.PendingTransaction.ID
			f := intentFieldsOf(t, v)
			queued, err := c.Intent(v.PendingTransaction.SerializedTransaction, v.Testnet)
			if err != nil {
				t.Fatalf("%s: Intent: %v", name, err)
			}
			got, err := c.SignedIntent(f.Expected.Signed, v.Testnet)
			if err != nil {
				t.Errorf("%s: SignedIntent: %v", name, err)
				continue
			}
			if len(f.Expected.FromAll) == 0 || !reflect.DeepEqual(got.Signers, f.Expected.FromAll) {
				t.Errorf("%s: signers %v, want the vector's from_all %v", name, got.Signers, f.Expected.FromAll)
			}
			if err := intent.CheckSigned(queued, got); err != nil {
				t.Errorf("%s: the honest signed transaction fails the check: %v", name, err)
			}
			if got.Fee != nil || len(got.Inputs) == 0 {
				t.Errorf("%s: fee %v, inputs %v", name, got.Fee, got.Inputs)
			}
			got.Fee = queued.Fee
			if len(queued.Signers) == 0 {
				for i := range got.Transfers {
					got.Transfers[i].Change = false
				}
			}
			got.Signers = queued.Signers
			if !reflect.DeepEqual(got, queued) {
				t.Errorf("%s:\nsigned %s\nqueued %s", name, js(got), js(queued))
			}
		}
	}
	if want := countUTXORows(); n != 17 || n != want {
		t.Fatalf("decoded %d signed UTXO rows, want 17 and the vector file's %d", n, want)
	}
}

// A BTC transaction spending P2WPKH, P2PKH, P2SH-P2WPKH and P2TR outputs:
// the first three reveal their keys, the taproot key path none, and the
// check still passes (the outpoints fix who can sign). Signed with another
// key instead, the signers name a stranger and the check fails on them.
func TestSignedIntentInputTypes(t *testing.T) {
	w0, _ := btcutil.DecodeWIF(wifAt(t, BTC, 0, true))
	w1, _ := btcutil.DecodeWIF(wifAt(t, BTC, 1, true))
	params := &chaincfg.TestNet3Params
	a0, _ := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(w0.SerializePubKey()), params)
	a1, _ := btcutil.NewAddressPubKeyHash(btcutil.Hash160(w1.SerializePubKey()), params)
	nested, _ := btcutil.NewAddressScriptHash(p2wpkhScript(btcutil.Hash160(w1.SerializePubKey())), params)
	tr, _ := btcutil.NewAddressTaproot(schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(w0.PrivKey.PubKey())), params)
	script := func(a btcutil.Address) []byte { s, _ := txscript.PayToAddrScript(a); return s }
	ser := handPSBT(t,
		[]*wire.TxOut{wire.NewTxOut(50_000, script(a0)), wire.NewTxOut(70_000, script(a1)),
			wire.NewTxOut(20_000, script(nested)), wire.NewTxOut(30_000, script(tr))},
		[]*wire.TxOut{wire.NewTxOut(160_000, script(a1))}, 0, isWitness)
	keys := []string{wifAt(t, BTC, 0, true), wifAt(t, BTC, 1, true)}
	s, err := BTC.Sign(context.Background(), chain.SignRequest{Serialized: ser, Testnet: true, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	got, err := BTC.SignedIntent(s.TxData, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{a0.EncodeAddress(), a1.EncodeAddress(), nested.EncodeAddress()}
	if !reflect.DeepEqual(got.Signers, want) || len(got.Inputs) != 4 {
		t.Fatalf("signers %v, want %v; inputs %v", got.Signers, want, got.Inputs)
	}
	queued, _ := BTC.Intent(ser, true)
	if err := intent.CheckSigned(queued, got); err != nil {
		t.Fatalf("honest: %v", err)
	}
	// The P2WPKH input's witness with another key's: the bytes a signer
	// holding another wallet would send.
	tx := decodeHex(t, s.TxData)
	w2, _ := btcutil.DecodeWIF(wifAt(t, BTC, 2, true))
	tx.TxIn[0].Witness[1] = w2.SerializePubKey()
	other, _ := BTC.SignedIntent(encodeHex(t, tx), true)
	var mm *intent.MismatchError
	if err := intent.CheckSigned(queued, other); !errors.As(err, &mm) || mm.Field != "signers" {
		t.Fatalf("another key: %v", err)
	}
}

// SignedIntent refuses what is no signed transaction: garbage, trailing
// bytes, a transaction without outputs, one spending an outpoint twice, an
// amount beyond the chain's supply, and an unsigned form of the codec.
func TestSignedIntentRefuses(t *testing.T) {
	signed := intentFieldsOf(t, vectorFor(t, "BTC", "native", true)).Expected.Signed
	if _, err := BTC.SignedIntent(signed, true); err != nil {
		t.Fatalf("the honest one: %v", err)
	}
	tx := decodeHex(t, signed)
	noOut := tx.Copy()
	noOut.TxOut = nil
	twice := tx.Copy()
	twice.TxIn = append(twice.TxIn, twice.TxIn[0])
	rich := tx.Copy()
	rich.TxOut[0].Value = 21_000_001 * 1e8
	bad := []string{signed + "00", signed[:len(signed)-2], encodeHex(t, noOut), encodeHex(t, twice), encodeHex(t, rich),
		vectorFor(t, "BCH", "tatum", true).PendingTransaction.SerializedTransaction}
	bad = append(bad, chaintest.CommonGarbage...)
	for i, s := range bad {
		if _, err := BTC.SignedIntent(s, true); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("#%d %.40s: err %v, want ErrInvalidTx", i, s, err)
		}
	}
}

// FuzzSignedIntent: SignedIntent never panics, refuses only with
// ErrInvalidTx, and what it decodes lists every input's outpoint, names only
// signers it can spell, and has no fee.
func FuzzSignedIntent(f *testing.F) {
	for _, code := range signingCodes {
		for _, v := range vectors.SigningFor(code) {
			var exp chaintest.Expected
			if json.Unmarshal(v.Expected, &exp) == nil {
				f.Add(exp.Signed)
			}
		}
	}
	for _, g := range chaintest.CommonGarbage {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range all {
			for _, testnet := range []bool{false, true} {
				in, err := c.SignedIntent(s, testnet)
				if err != nil {
					if !errors.Is(err, chain.ErrInvalidTx) {
						t.Fatalf("%s: refusal is not ErrInvalidTx: %v", c.Info().Code, err)
					}
					continue
				}
				if len(in.Inputs) == 0 || in.Fee != nil || len(in.Signers) > len(in.Inputs) || slices.Contains(in.Signers, "") {
					t.Fatalf("%s: decoded %s", c.Info().Code, js(in))
				}
			}
		}
	})
}

func decodeHex(t *testing.T, s string) *wire.MsgTx {
	t.Helper()
	raw, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	tx := new(wire.MsgTx)
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	return tx
}

func encodeHex(t *testing.T, tx *wire.MsgTx) string {
	t.Helper()
	var b bytes.Buffer
	if err := tx.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b.Bytes())
}
