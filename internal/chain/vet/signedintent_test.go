package vet

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

// Every VET vector's signed RLP decodes to what its queued transaction does
// (both forms), the origin recovered from the signature being the vector's
// wallet; any one byte changed (a field, the signature, its recovery id) is
// refused or decodes otherwise (another origin at least); on the other
// network it is refused by its chainTag.
func TestSignedIntentVectors(t *testing.T) {
	signed := chaintest.SignedIntentVectors(t, "VET", VET, nil)
	for _, r := range chaintest.SigningRows(t, "VET") {
		var e expected
		if err := json.Unmarshal(r.Expected, &e); err != nil {
			t.Fatal(err)
		}
		name := r.PendingTransaction.ID
		got := signed[name]
		if len(got.Signers) != 1 || got.Signers[0] != e.From {
			t.Errorf("%s: signers %q, want [%s]", name, got.Signers, e.From)
		}
		raw, _ := hex.DecodeString(e.Signed[2:])
		chaintest.WantTamperCaught(t, VET, name, chaintest.ByteFlips(raw, func(b []byte) string { return "0x" + hex.EncodeToString(b) }), r.Testnet, got)
		if _, err := VET.SignedIntent(e.Signed, !r.Testnet); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("%s on the other network: %v", name, err)
		}
	}
}

func FuzzSignedIntent(f *testing.F) {
	chaintest.FuzzSignedIntent(f, VET, chaintest.SignedSeeds("VET")...)
}
