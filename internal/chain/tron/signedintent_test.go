package tron

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// signedWith is a signed transaction JSON with raw_data_hex (and txID, so
// that the id check alone does not catch the change) and signature replaced.
func signedWith(t *testing.T, signed string, raw []byte, sig string) string {
	t.Helper()
	var o map[string]json.RawMessage
	if err := json.Unmarshal([]byte(signed), &o); err != nil {
		t.Fatal(err)
	}
	id := sha256.Sum256(raw)
	o["raw_data_hex"], _ = json.Marshal(hex.EncodeToString(raw))
	o["txID"], _ = json.Marshal(hex.EncodeToString(id[:]))
	o["signature"], _ = json.Marshal([]string{sig})
	out, _ := json.Marshal(o)
	return string(out)
}

// Every TRON vector's signed JSON decodes to what its queued one does, the
// signer recovered from the signature being the vector's owner; any one
// byte of the signature or of raw_data_hex changed (txID recomputed) is
// refused or decodes otherwise; so is the signature's recovery id flipped;
// the queued (unsigned) JSON is refused. Tatum 1.x's high-s signature of
// the same transaction decodes alike.
func TestSignedIntentVectors(t *testing.T) {
	chaintest.SignedIntentVectors(t, "TRON", TRON, nil, func(t *testing.T, r vectors.Signing, _ chaintest.Expected, got intent.Intent) {
		var e expected
		if err := json.Unmarshal(r.Expected, &e); err != nil {
			t.Fatal(err)
		}
		name := r.PendingTransaction.ID
		chaintest.WantSigners(t, name, got.Signers, e.From)
		// Tatum 1.x's TronWeb signed with the high s: the same transaction, the same signer.
		if e.SignedV1 != "" {
			v1, err := TRON.SignedIntent(e.SignedV1, r.Testnet)
			if err != nil {
				t.Errorf("%s: TronWeb 3 signature: %v", name, err)
			} else {
				chaintest.SameEffect(t, name+" v1", v1, got)
				chaintest.WantSigners(t, name+" v1", v1.Signers, e.From)
			}
		}
		var tx struct {
			RawDataHex string `json:"raw_data_hex"`
			Signature  []string
		}
		if err := json.Unmarshal([]byte(e.Signed), &tx); err != nil || len(tx.Signature) != 1 {
			t.Fatalf("%s: %v", name, err)
		}
		raw, _ := hex.DecodeString(tx.RawDataHex)
		sig, _ := hex.DecodeString(tx.Signature[0])
		var variants []string
		variants = append(variants, chaintest.ByteFlips(sig, func(b []byte) string { return signedWith(t, e.Signed, raw, hex.EncodeToString(b)) })...)
		variants = append(variants, chaintest.ByteFlips(raw, func(b []byte) string { return signedWith(t, e.Signed, b, tx.Signature[0]) })...)
		chaintest.WantTamperCaught(t, TRON, name, variants, r.Testnet, got)
		if _, err := TRON.SignedIntent(r.PendingTransaction.SerializedTransaction, r.Testnet); err == nil {
			t.Errorf("%s: queued JSON decoded as signed", name)
		}
	})
}

func FuzzSignedIntent(f *testing.F) {
	chaintest.FuzzSignedIntent(f, TRON, chaintest.SignedSeeds("TRON")...)
}
