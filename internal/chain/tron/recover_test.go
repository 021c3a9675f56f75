package tron

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
)

// Random keys sign a vector's transaction, and their signatures are
// altered (the other recovery id, 27/28 form, random r, zero r): the
// signer SignedIntent recovers is what btcec's RecoverCompact (decred's
// recovery, used here before) recovers, and a signature it recovers nothing
// from is refused.
func TestSignedIntentSignerMatchesRecoverCompact(t *testing.T) {
	r := rows(t)[0]
	var e expected
	if err := json.Unmarshal(r.Expected, &e); err != nil {
		t.Fatal(err)
	}
	var tx struct {
		RawDataHex string `json:"raw_data_hex"`
	}
	if err := json.Unmarshal([]byte(e.Signed), &tx); err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(tx.RawDataHex)
	id := sha256.Sum256(raw)
	rng := rand.New(rand.NewChaCha8([32]byte{'t', 'r', 'x'}))
	for range 200 {
		var seed [32]byte
		for i := range seed {
			seed[i] = byte(rng.Uint32())
		}
		priv, _ := btcec.PrivKeyFromBytes(seed[:])
		compact := ecdsa.SignCompact(priv, id[:], false) // 27+v ‖ r ‖ s
		sig := append(compact[1:65:65], compact[0]-27)
		for n, alter := range []func(b []byte){
			func([]byte) {},
			func(b []byte) { b[64] ^= 1 },
			func(b []byte) { b[64] += 27 },
			func(b []byte) {
				for i := range 32 {
					b[i] = byte(rng.Uint32())
				}
			},
			func(b []byte) { clear(b[:32]) },
		} {
			b := append([]byte(nil), sig...)
			alter(b)
			got, err := TRON.SignedIntent(signedWith(t, e.Signed, raw, hex.EncodeToString(b)), r.Testnet)
			v := b[64] % 27
			pub, _, werr := ecdsa.RecoverCompact(append([]byte{27 + v}, b[:64]...), id[:])
			if (err == nil) != (werr == nil) {
				t.Fatalf("alteration %d, sig %x: error %v, RecoverCompact's %v", n, b, err, werr)
			}
			if err == nil && (len(got.Signers) != 1 || got.Signers[0] != showAddress(AddressBytes(pub))) {
				t.Fatalf("alteration %d, sig %x: signers %v, want %s", n, b, got.Signers, showAddress(AddressBytes(pub)))
			}
			if n == 0 && got.Signers[0] != showAddress(AddressBytes(priv.PubKey())) {
				t.Fatalf("signer %v, want the key's %s", got.Signers, showAddress(AddressBytes(priv.PubKey())))
			}
		}
	}
}
