package sol

import (
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

func messages(t testing.TB) [][]byte {
	var out [][]byte
	for _, r := range vectors.SigningFor("SOL") {
		b, err := base64.StdEncoding.DecodeString(r.PendingTransaction.SerializedTransaction)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func garbage(t testing.TB) []string {
	m := messages(t)[0]
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	mod := func(f func([]byte) []byte) string { return b64(f(append([]byte(nil), m...))) }
	return append([]string{
		b64(m[:len(m)-1]),                                          // truncated
		b64(append(append([]byte(nil), m...), 0)),                  // trailing byte
		mod(func(b []byte) []byte { b[0] = 0; return b }),          // no signer
		mod(func(b []byte) []byte { b[0] = 9; return b }),          // more signers than keys
		mod(func(b []byte) []byte { b[0] = 0x81; return b }),       // unknown version
		mod(func(b []byte) []byte { b[len(b)-14] = 99; return b }), // account index out of range
		`{"txData":"zz"}`,
		`{"txData":"` + hex.EncodeToString(m[:20]) + `"}`,
		`{"txData":"` + hex.EncodeToString(m) + `","mintPK":5}`,
		// A signed transaction (signature count and signature first) is not a message.
		b64(append(append([]byte{1}, make([]byte, 64)...), m...)),
	}, chaintest.CommonGarbage...)
}

func TestValidateTx(t *testing.T) {
	chaintest.Validator(t, "SOL", SOL, garbage(t))
	// Tatum's form carries the same message as hex.
	for _, m := range messages(t) {
		if err := SOL.ValidateTx(`{"txData":"`+hex.EncodeToString(m)+`"}`, false); err != nil {
			t.Errorf("Tatum form: %v", err)
		}
	}
}

func FuzzValidateTx(f *testing.F) {
	for _, r := range vectors.SigningFor("SOL") {
		f.Add(r.PendingTransaction.SerializedTransaction)
	}
	for _, g := range garbage(f) {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, s string) { _ = SOL.ValidateTx(s, false) })
}
