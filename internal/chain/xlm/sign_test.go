package xlm

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stellar/go-stellar-sdk/keypair"
	"github.com/stellar/go-stellar-sdk/txnbuild"
	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/vectors"
)

type expected struct {
	Signed string `json:"signed"`
	TxID   string `json:"txId"`
	From   string `json:"from"`
}

func exp(t testing.TB, r vectors.Signing) expected {
	var e expected
	if err := json.Unmarshal(r.Expected, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func sign(ser string, testnet bool, keys ...string) (chain.Signed, error) {
	return XLM.Sign(context.Background(), chain.SignRequest{Serialized: ser, Testnet: testnet, Keys: keys})
}

// Every XLM signing vector (Tatum and native forms are the same XDR), byte for
// byte; then the Stellar SDK reads the output, computes the same hash for the
// wallet's network, verifies the signature with the source account's key and,
// signing the unsigned envelope itself, produces the same bytes.
func TestSignVectors(t *testing.T) {
	rows := vectors.SigningFor("XLM")
	if len(rows) == 0 {
		t.Fatal("no XLM signing vectors")
	}
	for _, r := range rows {
		e := exp(t, r)
		ser, secret := r.PendingTransaction.SerializedTransaction, r.Keys[0].Secret
		got, err := sign(ser, r.Testnet, secret)
		if err != nil {
			t.Fatalf("%s: %v", r.PendingTransaction.ID, err)
		}
		if got.TxData != e.Signed || got.TxID != e.TxID {
			t.Errorf("%s %s testnet=%v:\ngot  %s %s\nwant %s %s", r.Format, r.PendingTransaction.ID, r.Testnet, got.TxData, got.TxID, e.Signed, e.TxID)
		}
		// The other network's passphrase gives another hash: the network is in what is signed.
		if other, err := sign(ser, !r.Testnet, secret); err != nil || other.TxID == got.TxID {
			t.Errorf("%s: network passphrase not applied (%v)", r.PendingTransaction.ID, err)
		}
		// Signing an already signed envelope again adds nothing.
		if again, err := sign(got.TxData, r.Testnet, secret); err != nil || again != got {
			t.Errorf("%s: re-signing changed the envelope (%v)", r.PendingTransaction.ID, err)
		}

		gt, err := txnbuild.TransactionFromXDR(got.TxData)
		if err != nil {
			t.Fatalf("SDK cannot read the output: %v", err)
		}
		tx, ok := gt.Transaction()
		if !ok {
			t.Fatal("SDK reads a fee bump")
		}
		if h, err := tx.HashHex(Passphrase(r.Testnet)); err != nil || h != e.TxID {
			t.Errorf("SDK hash %s (%v), want %s", h, err, e.TxID)
		}
		if tx.SourceAccount().AccountID != e.From {
			t.Errorf("SDK source account %s", tx.SourceAccount().AccountID)
		}
		hash, _ := hex.DecodeString(got.TxID)
		from, _ := keypair.ParseAddress(e.From)
		if sigs := tx.Signatures(); len(sigs) != 1 || from.Verify(hash, sigs[0].Signature) != nil {
			t.Errorf("SDK does not verify the signature")
		}
		unsigned, _ := txnbuild.TransactionFromXDR(ser)
		utx, _ := unsigned.Transaction()
		ref, err := utx.Sign(Passphrase(r.Testnet), keypair.MustParseFull(secret))
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := ref.Base64(); b != got.TxData {
			t.Errorf("SDK signs %s differently", r.PendingTransaction.ID)
		}
	}
}

func TestSignRefusesOtherSource(t *testing.T) {
	rows := vectors.SigningFor("XLM")
	var testKey, mainKey string
	var testTx string
	for _, r := range rows {
		if r.Testnet {
			testKey, testTx = r.Keys[0].Secret, r.PendingTransaction.SerializedTransaction
		} else {
			mainKey = r.Keys[0].Secret
		}
	}
	if testKey == mainKey {
		t.Fatal("vector layout changed")
	}
	if _, err := sign(testTx, true, mainKey); !errors.Is(err, chain.ErrWrongSigner) {
		t.Errorf("foreign key: err %v", err)
	}
	for _, bad := range []string{"", secret[:55], "GB6MXC2EIYWRGHQ67K5C2LPITFCHBTR2E6WYKDKKMZP2KLMQHN2SIKQK"} {
		if _, err := sign(testTx, true, bad); !errors.Is(err, chain.ErrInvalidKey) {
			t.Errorf("bad key: err %v", err)
		}
	}
	if _, err := sign(testTx, true, testKey, testKey); !errors.Is(err, chain.ErrInvalidKey) {
		t.Errorf("two keys: err %v", err)
	}
	for _, g := range garbage() {
		if _, err := sign(g, true, testKey); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("garbage %.40q: err %v", g, err)
		}
	}
}

// A fee-bump envelope is signed by its fee source, into the outer signatures.
func TestSignFeeBump(t *testing.T) {
	var r vectors.Signing
	for _, x := range vectors.SigningFor("XLM") {
		if x.Testnet && x.Format == "native" {
			r = x
		}
	}
	e := exp(t, r)
	var inner xdr.TransactionEnvelope
	if err := xdr.SafeUnmarshalBase64(e.Signed, &inner); err != nil {
		t.Fatal(err)
	}
	feeSource := keypair.MustParseFull(r.Keys[0].Secret) // the same account pays the bump
	var src xdr.MuxedAccount
	if err := src.SetAddress(feeSource.Address()); err != nil {
		t.Fatal(err)
	}
	bump := xdr.TransactionEnvelope{Type: xdr.EnvelopeTypeEnvelopeTypeTxFeeBump, FeeBump: &xdr.FeeBumpTransactionEnvelope{
		Tx: xdr.FeeBumpTransaction{FeeSource: src, Fee: 1000, InnerTx: xdr.FeeBumpTransactionInnerTx{Type: xdr.EnvelopeTypeEnvelopeTypeTx, V1: inner.V1}},
	}}
	b64, _ := xdr.MarshalBase64(bump)
	got, err := sign(b64, true, r.Keys[0].Secret)
	if err != nil {
		t.Fatal(err)
	}
	gt, err := txnbuild.TransactionFromXDR(got.TxData)
	if err != nil {
		t.Fatal(err)
	}
	fb, ok := gt.FeeBump()
	if !ok {
		t.Fatal("not a fee bump")
	}
	if h, _ := fb.HashHex(Passphrase(true)); h != got.TxID || len(fb.Signatures()) != 1 {
		t.Errorf("fee bump hash %s, id %s, %d signatures", h, got.TxID, len(fb.Signatures()))
	}
	hash, _ := hex.DecodeString(got.TxID)
	if feeSource.Verify(hash, fb.Signatures()[0].Signature) != nil {
		t.Error("fee-bump signature does not verify")
	}
	// Another fee source is not the wallet.
	other := keypair.MustParseFull("SDLN7PDCQ6X47ZEMDJPUJCCSD3LVTIF4P42HN6UPJFXFTYOR3YA5XMGR")
	_ = src.SetAddress(other.Address())
	bump.FeeBump.Tx.FeeSource = src
	b64, _ = xdr.MarshalBase64(bump)
	if _, err := sign(b64, true, r.Keys[0].Secret); !errors.Is(err, chain.ErrWrongSigner) {
		t.Errorf("other fee source: err %v", err)
	}
}

func FuzzSign(f *testing.F) {
	var key string
	for _, r := range vectors.SigningFor("XLM") {
		f.Add(r.PendingTransaction.SerializedTransaction)
		if r.Testnet {
			key = r.Keys[0].Secret
		}
	}
	for _, g := range garbage() {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := sign(s, true, key)
		if err == nil {
			if _, derr := base64.StdEncoding.DecodeString(got.TxData); derr != nil {
				t.Fatal("signed output is not base64")
			}
			return
		}
		if !errors.Is(err, chain.ErrInvalidTx) && !errors.Is(err, chain.ErrWrongSigner) {
			t.Fatalf("error %v wraps neither ErrInvalidTx nor ErrWrongSigner", err)
		}
	})
}
