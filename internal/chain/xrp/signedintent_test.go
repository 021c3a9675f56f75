package xrp

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// Every XRP vector's tx_blob decodes to what its queued JSON does, the
// signer being the vector's account; any one byte changed (a field, the
// public key, the signature) is refused or decodes otherwise; the queued
// JSON is refused.
func TestSignedIntentVectors(t *testing.T) {
	upperHex := func(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }
	chaintest.SignedIntentVectors(t, "XRP", XRP, nil, func(t *testing.T, r vectors.Signing, e chaintest.Expected, got intent.Intent) {
		name := r.PendingTransaction.ID
		chaintest.WantSigners(t, name, got.Signers, e.From)
		blob, _ := hex.DecodeString(e.Signed)
		chaintest.WantTamperCaught(t, XRP, name, chaintest.ByteFlips(blob, upperHex), r.Testnet, got)
		if _, err := XRP.SignedIntent(r.PendingTransaction.SerializedTransaction, r.Testnet); err == nil {
			t.Errorf("%s: queued JSON decoded as signed", name)
		}
	})
}

func FuzzSignedIntent(f *testing.F) {
	chaintest.FuzzSignedIntent(f, XRP, chaintest.SignedSeeds("XRP")...)
}
