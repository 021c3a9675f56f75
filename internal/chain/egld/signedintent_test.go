package egld

import (
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// Every EGLD vector's signed JSON decodes to what its queued transaction
// does (both forms, the Tatum one completed as the server completes it), the
// sender its signer; every one-byte change of the JSON text (a digit of the
// value or nonce, a character of an address, of the signature, of a member's
// name) is refused or decodes otherwise; the other network's chain id is
// refused as such, and so is a transaction without its signature.
func TestSignedIntentVectors(t *testing.T) {
	serialized := func(r vectors.Signing) string { return completed(t, r) }
	chaintest.SignedIntentVectors(t, "EGLD", EGLD, serialized, func(t *testing.T, r vectors.Signing, e chaintest.Expected, got intent.Intent) {
		name := r.PendingTransaction.ID
		chaintest.WantSigners(t, name, got.Signers, e.From)
		chaintest.WantTamperCaught(t, EGLD, name, chaintest.ByteFlips([]byte(e.Signed), func(b []byte) string { return string(b) }), r.Testnet, got)
		if _, err := EGLD.SignedIntent(e.Signed, !r.Testnet); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("%s on the other network: %v", name, err)
		}
		if _, err := EGLD.SignedIntent(strings.Replace(e.Signed, `,"signature":`, `,"x":`, 1), r.Testnet); err == nil {
			t.Errorf("%s: decoded without a signature", name)
		}
	})
}

func FuzzSignedIntent(f *testing.F) {
	chaintest.FuzzSignedIntent(f, EGLD, chaintest.SignedSeeds("EGLD")...)
}
