package xrp

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

const secret = "shr4Jo7b72ysfADsRbidWSjEw9MoN"

func TestDerivationVectors(t *testing.T) {
	chaintest.Derivations(t, "XRP", XRP)
	chaintest.KeypairMnemonic(t, XRP)
}

// The key and public key of the public vector's seed (derivation.json
// private_key_hex / public_key_hex, from ripple-keypairs and xrpl).
func TestSeedKey(t *testing.T) {
	k, err := ParseSeed(secret)
	if err != nil {
		t.Fatal(err)
	}
	if got := chain.HexKey(k); got != "9ffcaff4313b94f406d4ebba94625c4fcde0fc1fac8650f2c17c299bd02c9fe6" {
		t.Errorf("key mismatch")
	}
	if got := hex.EncodeToString(k.PubKey().SerializeCompressed()); got != "02ce8bc239c471cbd1afeaa51818ac41787aa1e0afc592d481e3841d2d29bd9ea6" {
		t.Errorf("public key %s", got)
	}
}

func TestKeys(t *testing.T) {
	flipped := []byte(secret)
	flipped[5] = 'r'
	chaintest.Keys(t, XRP, []string{
		"", secret[:28], secret + "r", string(flipped), "0" + secret[1:],
		"rG1UVUQQEELDcP7QDwehqGvQ8ftiF2T8yN", // an address, not a secret
		"SHR4JO7B72YSFADSRBIDWSJEW9MON",
	})
	// An ed25519 seed (version 01 E1 4B) gets its own message.
	ed := toRipple.Replace(base58.CheckEncode(append([]byte{0xe1, 0x4b}, make([]byte, 16)...), 0x01))
	if ed[:3] != "sEd" {
		t.Fatalf("test seed %s is not an sEd seed", ed[:3])
	}
	if _, err := XRP.AddressFromPrivateKey(ed, false); !errors.Is(err, ErrEd25519Seed) || !errors.Is(err, chain.ErrInvalidKey) {
		t.Errorf("sEd seed: %v", err)
	}
}

func TestAddressRoundTrip(t *testing.T) {
	const a = "rG1UVUQQEELDcP7QDwehqGvQ8ftiF2T8yN"
	id, err := DecodeAddress(a)
	if err != nil || len(id) != 20 {
		t.Fatalf("DecodeAddress: %v", err)
	}
	for _, bad := range []string{"", "r", a[:len(a)-1] + "M", secret, "0G1UVUQQEELDcP7QDwehqGvQ8ftiF2T8yN"} {
		if _, err := DecodeAddress(bad); err == nil {
			t.Errorf("DecodeAddress(%q) accepted", bad)
		}
	}
}

// A key string comes from users (storemanagedprivatekey, imports): parse, never panic.
func FuzzAddressFromPrivateKey(f *testing.F) {
	f.Add("shr4Jo7b72ysfADsRbidWSjEw9MoN")
	f.Add("")
	f.Add("0x00")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := XRP.AddressFromPrivateKey(s, false); err != nil && !errors.Is(err, chain.ErrInvalidKey) {
			t.Fatalf("error %v does not wrap ErrInvalidKey", err)
		}
	})
}
