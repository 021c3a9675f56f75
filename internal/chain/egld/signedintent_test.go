package egld

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// Every EGLD vector's signed JSON decodes to what its queued transaction
// does (both forms, the Tatum one completed as the server completes it), the
// sender its signer; every one-byte change of the JSON text (a digit of the
// value or nonce, a character of an address, of the signature, of a member's
// name) is refused or decodes otherwise; the other network's chain id is
// refused as such.
func TestSignedIntentVectors(t *testing.T) {
	serialized := func(r vectors.Signing) string { return completed(t, r) }
	signed := chaintest.SignedIntentVectors(t, "EGLD", EGLD, serialized)
	for _, r := range chaintest.SigningRows(t, "EGLD") {
		var e expected
		if err := json.Unmarshal(r.Expected, &e); err != nil {
			t.Fatal(err)
		}
		name := r.PendingTransaction.ID
		got := signed[name]
		if len(got.Signers) != 1 || got.Signers[0] != e.From {
			t.Errorf("%s: signers %q, want [%s]", name, got.Signers, e.From)
		}
		chaintest.WantTamperCaught(t, EGLD, name, chaintest.ByteFlips([]byte(e.Signed), func(b []byte) string { return string(b) }), r.Testnet, got)
		if _, err := EGLD.SignedIntent(e.Signed, !r.Testnet); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("%s on the other network: %v", name, err)
		}
		if _, err := EGLD.SignedIntent(strings.Replace(e.Signed, `,"signature":`, `,"x":`, 1), r.Testnet); err == nil {
			t.Errorf("%s: decoded without a signature", name)
		}
	}
}

func FuzzSignedIntent(f *testing.F) {
	chaintest.FuzzSignedIntent(f, EGLD, chaintest.SignedSeeds("EGLD")...)
}
