package xrp

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	binarycodec "github.com/Peersyst/xrpl-go/binary-codec"
	"github.com/Peersyst/xrpl-go/keypairs"
	xrplcrypto "github.com/Peersyst/xrpl-go/pkg/crypto"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

type expected struct {
	Signed string `json:"signed"`
	TxID   string `json:"txId"`
	From   string `json:"from"`
}

func rows(t testing.TB) []vectors.Signing { return chaintest.SigningRows(t, "XRP") }

func sign(ser string, keys ...string) (chain.Signed, error) {
	return XRP.Sign(context.Background(), chain.SignRequest{Serialized: ser, Keys: keys})
}

// Every XRP signing vector (Tatum and native forms are the same JSON), byte
// for byte; then xrpl-go decodes the blob back to the same Account and
// verifies TxnSignature over its own signing encoding with SigningPubKey.
func TestSignVectors(t *testing.T) {
	for _, r := range rows(t) {
		var e expected
		if err := json.Unmarshal(r.Expected, &e); err != nil {
			t.Fatal(err)
		}
		got, err := sign(r.PendingTransaction.SerializedTransaction, r.Keys[0].Secret)
		if err != nil {
			t.Fatalf("%s: %v", r.PendingTransaction.ID, err)
		}
		if got.TxData != e.Signed || got.TxID != e.TxID {
			t.Errorf("%s %s:\ngot  %s %s\nwant %s %s", r.Format, r.PendingTransaction.ID, got.TxData, got.TxID, e.Signed, e.TxID)
		}
		if id, err := TxID(got.TxData); err != nil || id != e.TxID {
			t.Errorf("TxID(blob) = %s, %v", id, err)
		}
		dec, err := binarycodec.Decode(got.TxData)
		if err != nil {
			t.Fatalf("xrpl-go cannot decode the blob: %v", err)
		}
		if dec["Account"] != e.From {
			t.Errorf("decoded Account %v, want %s", dec["Account"], e.From)
		}
		sig, pub := dec["TxnSignature"].(string), dec["SigningPubKey"].(string)
		msg, err := binarycodec.EncodeForSigning(dec)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := hex.DecodeString(msg)
		if !xrplcrypto.SECP256K1().Validate(string(raw), pub, sig) {
			t.Errorf("xrpl-go does not verify the signature")
		}
		if a, _ := keypairs.DeriveClassicAddress(pub); a != e.From {
			t.Errorf("SigningPubKey is %s's, want %s", a, e.From)
		}
	}
}

func TestSignRefuses(t *testing.T) {
	r := rows(t)[0]
	ser := r.PendingTransaction.SerializedTransaction
	var other string
	for _, x := range rows(t) {
		if x.Keys[0].Secret != r.Keys[0].Secret {
			other = x.Keys[0].Secret
		}
	}
	if _, err := sign(ser, other); !errors.Is(err, chain.ErrWrongSigner) {
		t.Errorf("foreign key: err %v", err)
	}
	if _, err := sign(strings.Replace(ser, `"Fee"`, `"SigningPubKey":"0245C3C9383B3C4FD889006241DA507096FB082D116F961BA1EA423347C753AA56","Fee"`, 1), r.Keys[0].Secret); err != nil {
		t.Errorf("own SigningPubKey given: %v", err)
	}
	for name, s := range map[string]string{
		"unknown field":     strings.Replace(ser, `"Fee"`, `"Feee":"1","Fee"`, 1),
		"already signed":    strings.Replace(ser, `"Fee"`, `"TxnSignature":"00","Fee"`, 1),
		"multisigned":       strings.Replace(ser, `"Fee"`, `"Signers":[],"Fee"`, 1),
		"sequence fraction": strings.Replace(ser, `"Sequence":5`, `"Sequence":5.5`, 1),
		"flags string":      strings.Replace(ser, `"Flags":2147483648`, `"Flags":"2147483648"`, 1),
		"amount number":     strings.Replace(ser, `"Amount":"1000000"`, `"Amount":1000000`, 1),
		"amount garbage":    strings.Replace(ser, `"Amount":"1000000"`, `"Amount":"ten"`, 1),
		"memos not array":   strings.Replace(ser, `"Fee"`, `"Memos":{},"Fee"`, 1),
		"memo not object":   strings.Replace(ser, `"Fee"`, `"Memos":[1],"Fee"`, 1),
		"memo data number":  strings.Replace(ser, `"Fee"`, `"Memos":[{"Memo":{"MemoData":5}}],"Fee"`, 1),
		"unknown tx type":   strings.Replace(ser, `"Payment"`, `"Paymant"`, 1),
		"trailing":          ser + "{}",
	} {
		if s == ser {
			t.Fatalf("%s: vector layout changed", name)
		}
		if _, err := sign(s, r.Keys[0].Secret); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	if _, err := sign(strings.Replace(ser, `"Fee"`, `"SigningPubKey":"02AE3F26CB9F2F1143E72731393CA02C0EA859E268E60414B45A9E2974DC0DB4A9","Fee"`, 1), r.Keys[0].Secret); !errors.Is(err, chain.ErrWrongSigner) {
		t.Errorf("other SigningPubKey: err %v", err)
	}
	for _, bad := range []string{"", "rG1UVUQQEELDcP7QDwehqGvQ8ftiF2T8yN", "0xdead"} {
		if _, err := sign(ser, bad); !errors.Is(err, chain.ErrInvalidKey) {
			t.Errorf("bad key: err %v", err)
		}
	}
}

func FuzzSign(f *testing.F) {
	for _, r := range rows(f) {
		f.Add(r.PendingTransaction.SerializedTransaction)
	}
	for _, g := range garbage() {
		f.Add(g)
	}
	f.Add(`{"TransactionType":"Payment","Account":"rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1","Amount":{"value":1,"currency":"USD","issuer":"rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1"},"Paths":[[{"account":5}]]}`)
	key := rows(f)[0].Keys[0].Secret
	f.Fuzz(func(t *testing.T, s string) {
		got, err := sign(s, key)
		if err == nil {
			if _, derr := binarycodec.Decode(got.TxData); derr != nil {
				t.Fatalf("signed blob does not decode: %v", derr)
			}
			return
		}
		if !errors.Is(err, chain.ErrInvalidTx) && !errors.Is(err, chain.ErrWrongSigner) {
			t.Fatalf("error %v wraps neither ErrInvalidTx nor ErrWrongSigner", err)
		}
	})
}
