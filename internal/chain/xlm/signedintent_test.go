package xlm

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// Every XLM vector's signed envelope decodes to what its pending one does,
// the source account its signer; any one byte changed (the signature, its
// hint, an amount, the sequence, the time bounds) is refused or decodes
// otherwise; on the other network the signature does not verify and the
// envelope is refused as another network's; the unsigned envelope is refused.
func TestSignedIntentVectors(t *testing.T) {
	chaintest.SignedIntentVectors(t, "XLM", XLM, nil, func(t *testing.T, r vectors.Signing, e chaintest.Expected, got intent.Intent) {
		name := r.PendingTransaction.ID
		chaintest.WantSigners(t, name, got.Signers, e.From)
		raw, _ := base64.StdEncoding.DecodeString(e.Signed)
		chaintest.WantTamperCaught(t, XLM, name, chaintest.ByteFlips(raw, base64.StdEncoding.EncodeToString), r.Testnet, got)
		if _, err := XLM.SignedIntent(e.Signed, !r.Testnet); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("%s on the other network: %v, want ErrWrongNetwork", name, err)
		}
		if _, err := XLM.SignedIntent(r.PendingTransaction.SerializedTransaction, r.Testnet); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("%s unsigned: %v, want ErrInvalidTx", name, err)
		}
	})
}

func FuzzSignedIntent(f *testing.F) {
	chaintest.FuzzSignedIntent(f, XLM, chaintest.SignedSeeds("XLM")...)
}
