package chain

import (
	"crypto/ed25519"
	"encoding/hex"
	"testing"
)

// Test vector 1 for ed25519 of the SLIP-0010 specification.
func TestSLIP10Ed25519Vector1(t *testing.T) {
	seed, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f")
	h := func(is ...uint32) []uint32 {
		for j := range is {
			is[j] += Hardened
		}
		return is
	}
	for _, tc := range []struct {
		path []uint32
		priv string
	}{
		{nil, "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7"},
		{h(0), "68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3"},
		{h(0, 1), "b1d0bad404bf35da785a64ca1ac54b2617211d2777696fbffaf208f746ae84f2"},
		{h(0, 1, 2), "92a5b23c0b8a99e37d07df3fb9966917f5d06e02ddbd909c7e184371463e9fc9"},
		{h(0, 1, 2, 2), "30d1dc7e5fc04c31219ab25a27ae00b50f6fd66622f6e9c913253d6511d1e662"},
		{h(0, 1, 2, 2, 1000000000), "8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793"},
	} {
		k, err := SLIP10Ed25519(seed, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(k); got != tc.priv {
			t.Errorf("path %v: key %s, want %s", tc.path, got, tc.priv)
		}
	}
	// The spec's public key of m (00-prefixed there).
	k, _ := SLIP10Ed25519(seed, nil)
	pub := ed25519.NewKeyFromSeed(k).Public().(ed25519.PublicKey)
	if got := hex.EncodeToString(pub); got != "a4b2856bfec510abab89753fac1ac0e1112364e7d250545963f135f2a33188ed" {
		t.Errorf("public key of m = %s", got)
	}
	if _, err := SLIP10Ed25519(seed, []uint32{Hardened, 1}); err == nil {
		t.Error("non-hardened index accepted")
	}
}
