package vet

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// Every VET vector's signed RLP decodes to what its queued transaction does
// (both forms), the origin recovered from the signature being the vector's
// wallet; any one byte changed (a field, the signature, its recovery id) is
// refused or decodes otherwise (another origin at least); on the other
// network it is refused by its chainTag.
func TestSignedIntentVectors(t *testing.T) {
	chaintest.SignedIntentVectors(t, "VET", VET, nil, func(t *testing.T, r vectors.Signing, e chaintest.Expected, got intent.Intent) {
		name := r.PendingTransaction.ID
		chaintest.WantSigners(t, name, got.Signers, e.From)
		raw, _ := hex.DecodeString(e.Signed[2:])
		chaintest.WantTamperCaught(t, VET, name, chaintest.ByteFlips(raw, func(b []byte) string { return "0x" + hex.EncodeToString(b) }), r.Testnet, got)
		if _, err := VET.SignedIntent(e.Signed, !r.Testnet); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("%s on the other network: %v", name, err)
		}
	})
}

func FuzzSignedIntent(f *testing.F) {
	chaintest.FuzzSignedIntent(f, VET, chaintest.SignedSeeds("VET")...)
}
