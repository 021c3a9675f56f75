package xlm

import (
	"encoding/base64"
	"testing"

	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

func garbage() []string {
	tx := vectors.SigningFor("XLM")[0].PendingTransaction.SerializedTransaction
	raw, _ := base64.StdEncoding.DecodeString(tx)
	mod := func(f func([]byte)) string {
		b := append([]byte(nil), raw...)
		f(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	return append([]string{
		"AAAA", "AAAAAg==", "%%%%",
		tx[:len(tx)-3], // not base64 any more
		base64.StdEncoding.EncodeToString(raw[:40]),
		mod(func(b []byte) { b[3] = 7 }),    // unknown envelope type
		mod(func(b []byte) { b[6] = 9 }),    // unknown account type
		mod(func(b []byte) { b[0] = 0x80 }), // huge envelope type
		base64.StdEncoding.EncodeToString([]byte(`{"TransactionType":"Payment"}`)),
	}, chaintest.CommonGarbage...)
}

func TestValidateTx(t *testing.T) { chaintest.Validator(t, "XLM", XLM, garbage()) }

func FuzzValidateTx(f *testing.F) {
	for _, r := range vectors.SigningFor("XLM") {
		f.Add(r.PendingTransaction.SerializedTransaction)
	}
	for _, g := range garbage() {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, s string) { _ = XLM.ValidateTx(s, false) })
}
