package evm

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// all is this package's chains; the registry is internal/chain/chains.
var all = []*Chain{ETH, BSC, MATIC, CELO, ONE, XDC, KLAY}

func byCode(code string) *Chain {
	for _, c := range all {
		if c.Info().Code == code {
			return c
		}
	}
	return nil
}

func TestDerivationVectors(t *testing.T) {
	seeds := map[string][]byte{}
	rows := 0
	for _, v := range vectors.Derivations() {
		c := byCode(v.Chain)
		if c == nil || v.Kind != "mnemonic" {
			continue
		}
		seed, ok := seeds[v.Mnemonic]
		if !ok {
			var err error
			if seed, err = chain.Seed(v.Mnemonic); err != nil {
				t.Fatal(err)
			}
			seeds[v.Mnemonic] = seed
		}
		name := v.Chain + map[bool]string{false: "/mainnet", true: "/testnet"}[v.Testnet]
		xpub, err := c.XPub(seed, v.Testnet)
		if err != nil || v.XPub == nil || xpub != *v.XPub {
			t.Errorf("%s xpub = %s, %v", name, xpub, err)
			continue
		}
		if !strings.HasPrefix(xpub, "xpub") {
			t.Errorf("%s: xpub prefix %s", name, xpub[:4])
		}
		for _, ix := range v.Indices {
			rows++
			if got, err := c.AddressFromXPub(xpub, ix.Index, v.Testnet); err != nil || got != ix.Address {
				t.Errorf("%s/%d AddressFromXPub = %s, %v; want %s", name, ix.Index, got, err, ix.Address)
			}
			if got, err := c.AddressFromSeed(seed, ix.Index, v.Testnet); err != nil || got != ix.Address {
				t.Errorf("%s/%d AddressFromSeed = %s, %v; want %s", name, ix.Index, got, err, ix.Address)
			}
			pk, err := c.PrivateKey(seed, ix.Index, v.Testnet)
			if err != nil || pk != ix.PrivateKey {
				t.Errorf("%s/%d PrivateKey differs from the vector (err %v)", name, ix.Index, err)
			}
			if got, err := c.AddressFromPrivateKey(ix.PrivateKey, v.Testnet); err != nil || got != ix.Address {
				t.Errorf("%s/%d AddressFromPrivateKey = %s, %v; want %s", name, ix.Index, got, err, ix.Address)
			}
		}
	}
	// 7 chains × 2 mnemonics × 2 networks × 5 indices.
	if rows != 7*2*2*5 {
		t.Fatalf("checked %d index rows, want %d", rows, 7*2*2*5)
	}
}

func TestDerivationFormats(t *testing.T) {
	seed, _ := chain.Seed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	xdc, _ := XDC.AddressFromSeed(seed, 0, false)
	if !strings.HasPrefix(xdc, "xdc") || len(xdc) != 43 {
		t.Errorf("XDC address %q", xdc)
	}
	one, _ := ONE.AddressFromSeed(seed, 0, false)
	if !strings.HasPrefix(one, "0x") || len(one) != 42 {
		t.Errorf("ONE address %q, want 0x form", one)
	}
	a, err := XDC.ParseAddress(xdc)
	if err != nil || XDC.FormatAddress(a) != xdc {
		t.Errorf("XDC ParseAddress round trip: %v", err)
	}
	if _, err := XDC.ParseAddress("0x" + xdc[3:]); err != nil {
		t.Errorf("XDC refuses its 0x form: %v", err)
	}
	if _, err := ETH.ParseAddress(xdc); err == nil {
		t.Errorf("ETH accepts an xdc address")
	}
	if _, err := ETH.XPub(seed, true); err != nil {
		t.Fatal(err)
	}
	if _, err := ETH.AddressFromSeed(seed, chain.MaxIndex+1, false); err == nil {
		t.Error("index 2^31 accepted")
	}
}

func TestBadKeysAndXPubs(t *testing.T) {
	secret := "0x1ab42cc412b618bdea3a599e3c9bae199ebf030895b039e9db1e30dafb12b727"
	for _, bad := range []string{
		"", "0x", "0x1234", secret + "00", "0x" + strings.Repeat("0", 64),
		"0x" + strings.Repeat("f", 64), // ≥ n
		"0xzz" + secret[4:],
	} {
		_, err := ETH.AddressFromPrivateKey(bad, false)
		if !errors.Is(err, chain.ErrInvalidKey) {
			t.Errorf("key %q: err = %v", bad, err)
		} else if strings.Contains(err.Error(), secret[2:]) {
			t.Error("error text quotes the key")
		}
	}
	if _, err := ETH.AddressFromPrivateKey(secret[2:], false); err != nil {
		t.Errorf("key without 0x refused: %v", err)
	}
	seed, _ := chain.Seed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	k, _ := chain.DeriveBIP32(seed, xpubNet, ETH.accountPath(false))
	for _, bad := range []string{"", "xpub", "tpubgarbage", k.String()} {
		if _, err := ETH.AddressFromXPub(bad, 0, false); err == nil {
			t.Errorf("xpub %.8s… accepted", bad)
		}
	}
}

func TestGeneratePrivateKey(t *testing.T) {
	k, err := ETH.GeneratePrivateKey(rand.Reader, false)
	if err != nil || len(k) != 66 || !strings.HasPrefix(k, "0x") {
		t.Fatalf("generated key has length %d, err %v", len(k), err)
	}
	if _, err := ETH.AddressFromPrivateKey(k, false); err != nil {
		t.Fatal(err)
	}
	// A source of all-0xff (≥ n) must not be accepted, nor loop forever.
	if _, err := ETH.GeneratePrivateKey(bytes.NewReader(bytes.Repeat([]byte{0xff}, 32*16)), false); err == nil {
		t.Error("invalid scalars accepted")
	}
	if _, err := ETH.GeneratePrivateKey(bytes.NewReader(nil), false); err == nil {
		t.Error("empty source accepted")
	}
}

var sink string

// BenchmarkAddressFromXPub is the rate of addresses from one parsed xpub
// (chain.XPubAddresser), what a range of deposit addresses costs per address.
func BenchmarkAddressFromXPub(b *testing.B) {
	xpub := "xpub6EF8jXqFeFEW5bwMU7RpQtHkzE4KJxcqJtvkCjJumzW8CPpacXkb92ek4WzLQXjL93HycJwTPUAcuNxCqFPKKU5m5Z2Vq4nCyh5CyPeBFFr"
	addr, err := ETH.XPubAddresses(xpub, false)
	if err != nil {
		b.Fatal(err)
	}
	var i uint32
	for b.Loop() {
		a, err := addr(i)
		if err != nil {
			b.Fatal(err)
		}
		sink = a
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "addr/s")
}

// BenchmarkAddressFromXPubOnce is one address with its parse, as
// AddressFromXPub (getaddress) does.
func BenchmarkAddressFromXPubOnce(b *testing.B) {
	xpub := "xpub6EF8jXqFeFEW5bwMU7RpQtHkzE4KJxcqJtvkCjJumzW8CPpacXkb92ek4WzLQXjL93HycJwTPUAcuNxCqFPKKU5m5Z2Vq4nCyh5CyPeBFFr"
	var i uint32
	for b.Loop() {
		a, err := ETH.AddressFromXPub(xpub, i, false)
		if err != nil {
			b.Fatal(err)
		}
		sink = a
		i++
	}
}

// The addresses of one parsed xpub are those of the child private keys
// derived from the seed (an independent path), from goroutines at once too.
func TestXPubAddressesMatchTheSeed(t *testing.T) {
	seed, err := chain.Seed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Chain{ETH, XDC, ONE} {
		xpub, err := c.XPub(seed, false)
		if err != nil {
			t.Fatal(err)
		}
		addr, err := c.XPubAddresses(xpub, false)
		if err != nil {
			t.Fatal(err)
		}
		chaintest.XPubAddresses(t, c.Info().Code, 40, addr, func(i uint32) (string, error) { return c.AddressFromSeed(seed, i, false) })
	}
	if _, err := ETH.XPubAddresses("xpub-not", false); err == nil {
		t.Error("a malformed xpub was accepted")
	}
}

func BenchmarkGenerateAndAddress(b *testing.B) {
	for b.Loop() {
		k, err := ETH.GeneratePrivateKey(rand.Reader, false)
		if err != nil {
			b.Fatal(err)
		}
		if sink, err = ETH.AddressFromPrivateKey(k, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}

// GenerateKeys (one inversion for a block of keys) gives each key the
// address AddressFromPrivateKey gives it, for XDC's prefix too, and draws
// different keys.
func TestGenerateKeysMatchesOneByOne(t *testing.T) {
	for _, c := range []*Chain{ETH, XDC} {
		keys, addrs := make([]string, 300), make([]string, 300)
		if err := c.GenerateKeys(rand.Reader, false, keys, addrs); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for i, k := range keys {
			want, err := c.AddressFromPrivateKey(k, false)
			if err != nil || addrs[i] != want {
				t.Fatalf("%s key %d: address %s, one by one %s (%v)", c.Info().Code, i, addrs[i], want, err)
			}
			if seen[k] {
				t.Fatalf("key %d drawn twice", i)
			}
			seen[k] = true
		}
	}
	if err := ETH.GenerateKeys(rand.Reader, false, make([]string, 2), make([]string, 1)); err == nil {
		t.Error("mismatched lengths accepted")
	}
}
