package bnb

import (
	"errors"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

func TestDerivationVectors(t *testing.T) {
	chaintest.Derivations(t, "BNB", BNB)
	chaintest.KeypairMnemonic(t, BNB)
}

func TestKeys(t *testing.T) {
	chaintest.Keys(t, BNB, []string{
		"", "f235f3fe28def64f8413bdcfb2a97ac42e7fcddc29a064e3a2e9d9671427be",
		"f235f3fe28def64f8413bdcfb2a97ac42e7fcddc29a064e3a2e9d9671427be1e00",
		"x235f3fe28def64f8413bdcfb2a97ac42e7fcddc29a064e3a2e9d9671427be1e",
		"0000000000000000000000000000000000000000000000000000000000000000",
	})
}

func TestAddressNetworks(t *testing.T) {
	if _, err := DecodeAddress("bnb1z3muqpe032xmhan5744ws2xpk0530263dajv2l", false); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeAddress("bnb1z3muqpe032xmhan5744ws2xpk0530263dajv2l", true); err == nil {
		t.Fatal("mainnet address accepted on testnet")
	}
}

// A key string comes from users (storemanagedprivatekey, imports): parse, never panic.
func FuzzAddressFromPrivateKey(f *testing.F) {
	f.Add("f235f3fe28def64f8413bdcfb2a97ac42e7fcddc29a064e3a2e9d9671427be1e")
	f.Add("")
	f.Add("0x00")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := BNB.AddressFromPrivateKey(s, false); err != nil && !errors.Is(err, chain.ErrInvalidKey) {
			t.Fatalf("error %v does not wrap ErrInvalidKey", err)
		}
	})
}
