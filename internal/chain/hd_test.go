package chain

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
)

const abandon = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

func TestSeedAndPath(t *testing.T) {
	seed, err := Seed("  abandon abandon abandon abandon abandon abandon\tabandon abandon abandon abandon abandon about ")
	if err != nil {
		t.Fatal(err)
	}
	// BIP-39 reference seed of this mnemonic with an empty passphrase.
	if got := hex.EncodeToString(seed); got != "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4" {
		t.Fatalf("seed = %s", got)
	}
	for _, bad := range []string{"", "abandon abandon", abandon[:len(abandon)-5] + "abandon", "secretword abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"} {
		if _, err := Seed(bad); !errors.Is(err, ErrInvalidMnemonic) {
			t.Errorf("Seed(bad) err = %v", err)
		}
	}
	p, err := ParsePath("m/44'/60'/0'/0")
	if err != nil || len(p) != 4 || p[0] != Hardened+44 || p[3] != 0 {
		t.Fatalf("ParsePath = %v %v", p, err)
	}
	for _, bad := range []string{"44'/0", "m/x", "m/2147483648"} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) accepted", bad)
		}
	}
	// ETH account of the abandon mnemonic (derivation.json, Tatum SDK).
	k, err := DeriveBIP32(seed, &chaincfg.MainNetParams, p)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := k.Neuter(); n.String() != "xpub6EF8jXqFeFEW5bwMU7RpQtHkzE4KJxcqJtvkCjJumzW8CPpacXkb92ek4WzLQXjL93HycJwTPUAcuNxCqFPKKU5m5Z2Vq4nCyh5CyPeBFFr" {
		t.Fatalf("xpub = %s", n.String())
	}
	pk, _ := k.Derive(0)
	pub, _ := pk.ECPubKey()
	if a := KeccakAddress(pub); hex.EncodeToString(a[:]) != "9858effd232b4033e47d90003d41ec34ecaeda94" {
		t.Fatalf("address = %x", a)
	}
	if _, err := CheckIndex(1 << 31); err == nil {
		t.Fatal("index 2^31 accepted")
	}
}
