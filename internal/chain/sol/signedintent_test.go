package sol

import (
	"encoding/base64"
	"testing"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// Every SOL vector's signed transaction decodes to what its pending one does,
// with the vector's signers; any one byte changed (a signature, the count,
// an account, an amount, the blockhash) is refused or decodes otherwise; the
// pending (unsigned) message is refused.
func TestSignedIntentVectors(t *testing.T) {
	chaintest.SignedIntentVectors(t, "SOL", SOL, nil, func(t *testing.T, r vectors.Signing, _ chaintest.Expected, got intent.Intent) {
		e := exp(t, r)
		name := r.PendingTransaction.ID
		chaintest.WantSigners(t, name, got.Signers, e.Signers...)
		wire, _ := base64.StdEncoding.DecodeString(e.Signed)
		chaintest.WantTamperCaught(t, SOL, name, chaintest.ByteFlips(wire, base64.StdEncoding.EncodeToString), r.Testnet, got)
		if _, err := SOL.SignedIntent(r.PendingTransaction.SerializedTransaction, r.Testnet); err == nil {
			t.Errorf("%s: unsigned message decoded as signed", name)
		}
	})
}

func FuzzSignedIntent(f *testing.F) {
	chaintest.FuzzSignedIntent(f, SOL, chaintest.SignedSeeds("SOL")...)
}
