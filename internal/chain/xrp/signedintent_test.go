package xrp

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain/chaintest"
)

func upperHex(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// Every XRP vector's tx_blob decodes to what its queued JSON does, the
// signer being the vector's account; any one byte changed (a field, the
// public key, the signature) is refused or decodes otherwise; the queued
// JSON and a blob signed but stripped of its signature are refused.
func TestSignedIntentVectors(t *testing.T) {
	signed := chaintest.SignedIntentVectors(t, "XRP", XRP, nil)
	for _, r := range rows(t) {
		var e expected
		if err := json.Unmarshal(r.Expected, &e); err != nil {
			t.Fatal(err)
		}
		name := r.PendingTransaction.ID
		got := signed[name]
		if len(got.Signers) != 1 || got.Signers[0] != e.From {
			t.Errorf("%s: signers %q, want [%s]", name, got.Signers, e.From)
		}
		blob, _ := hex.DecodeString(e.Signed)
		chaintest.WantTamperCaught(t, XRP, name, chaintest.ByteFlips(blob, upperHex), r.Testnet, got)
		if _, err := XRP.SignedIntent(r.PendingTransaction.SerializedTransaction, r.Testnet); err == nil {
			t.Errorf("%s: queued JSON decoded as signed", name)
		}
	}
}

func FuzzSignedIntent(f *testing.F) {
	chaintest.FuzzSignedIntent(f, XRP, chaintest.SignedSeeds("XRP")...)
}
