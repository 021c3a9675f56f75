package sol

import (
	"encoding/base64"
	"testing"

	"github.com/custoskms/custos/internal/chain/chaintest"
)

// Every SOL vector's signed transaction decodes to what its pending one does,
// with the vector's signers; any one byte changed (a signature, the count,
// an account, an amount, the blockhash) is refused or decodes otherwise.
func TestSignedIntentVectors(t *testing.T) {
	signed := chaintest.SignedIntentVectors(t, "SOL", SOL, nil)
	for _, r := range rows(t) {
		e := exp(t, r)
		name := r.PendingTransaction.ID
		got := signed[name]
		if len(got.Signers) != len(e.Signers) {
			t.Fatalf("%s: signers %q, want %q", name, got.Signers, e.Signers)
		}
		for i := range e.Signers {
			if got.Signers[i] != e.Signers[i] {
				t.Errorf("%s: signer %d %s, want %s", name, i, got.Signers[i], e.Signers[i])
			}
		}
		wire, _ := base64.StdEncoding.DecodeString(e.Signed)
		chaintest.WantTamperCaught(t, SOL, name, chaintest.ByteFlips(wire, base64.StdEncoding.EncodeToString), r.Testnet, got)
	}
}

// A transaction of the pending form (an unsigned message) is not a signed one.
func TestSignedIntentRefusesUnsigned(t *testing.T) {
	for _, r := range rows(t) {
		if _, err := SOL.SignedIntent(r.PendingTransaction.SerializedTransaction, r.Testnet); err == nil {
			t.Errorf("%s: unsigned message decoded as signed", r.PendingTransaction.ID)
		}
	}
}

func FuzzSignedIntent(f *testing.F) {
	chaintest.FuzzSignedIntent(f, SOL, chaintest.SignedSeeds("SOL")...)
}
