package utxo

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// all is this package's chains; the registry is internal/chain/chains.
var all = []*Chain{BTC, LTC, DOGE, BCH}

func byCode(t testing.TB, code string) *Chain {
	for _, c := range all {
		if c.Info().Code == code {
			return c
		}
	}
	t.Fatalf("no chain %s", code)
	return nil
}

// Every BTC/LTC/DOGE/BCH row of derivation.json (Tatum SDK, checked by
// wallet-core and @scure/bip32): xpub, address from the xpub and from the
// seed, WIF, address from the WIF, and for BTC Tatum's legacy form.
func TestDerivationVectors(t *testing.T) {
	rows := 0
	for _, v := range vectors.Derivations() {
		if v.Kind != "mnemonic" || !strings.Contains(" BTC LTC DOGE BCH ", " "+v.Chain+" ") {
			continue
		}
		rows++
		c := byCode(t, v.Chain)
		seed, err := chain.Seed(v.Mnemonic)
		if err != nil {
			t.Fatal(err)
		}
		xpub, err := c.XPub(seed, v.Testnet)
		if err != nil || v.XPub == nil || xpub != *v.XPub {
			t.Errorf("%s testnet=%v xpub = %s, %v", v.Chain, v.Testnet, xpub, err)
			continue
		}
		for _, ix := range v.Indices {
			name := v.Chain + "/" + ix.DerivationPath
			if a, err := c.AddressFromXPub(xpub, ix.Index, v.Testnet); err != nil || a != ix.Address {
				t.Errorf("%s AddressFromXPub = %s, %v; want %s", name, a, err, ix.Address)
			}
			if a, err := c.AddressFromSeed(seed, ix.Index, v.Testnet); err != nil || a != ix.Address {
				t.Errorf("%s AddressFromSeed = %s, %v", name, a, err)
			}
			pk, err := c.PrivateKey(seed, ix.Index, v.Testnet)
			if err != nil || pk != ix.PrivateKey {
				t.Errorf("%s PrivateKey mismatch (err %v)", name, err)
			}
			if a, err := c.AddressFromPrivateKey(ix.PrivateKey, v.Testnet); err != nil || a != ix.Address {
				t.Errorf("%s AddressFromPrivateKey = %s, %v", name, a, err)
			}
			legacy, err := c.LegacyAddressFromPrivateKey(ix.PrivateKey, v.Testnet)
			switch {
			case err != nil:
				t.Errorf("%s LegacyAddressFromPrivateKey: %v", name, err)
			case v.Chain == "BTC" && legacy != ix.AddressFromPrivateKeyTatum:
				t.Errorf("%s legacy = %s, want Tatum's %s", name, legacy, ix.AddressFromPrivateKeyTatum)
			case v.Chain != "BTC" && legacy != ix.Address:
				t.Errorf("%s legacy = %s, want %s", name, legacy, ix.Address)
			}
			if v.Chain == "BTC" && ix.AddressFromPrivateKeyTatum == "" {
				t.Errorf("%s: vector lacks address_from_private_key_tatum", name)
			}
		}
	}
	if rows != 16 {
		t.Fatalf("UTXO derivation rows = %d, want 16", rows)
	}
}

func TestXPubRefusals(t *testing.T) {
	seed, _ := chain.Seed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	mainX, _ := BTC.XPub(seed, false)
	testX, _ := BTC.XPub(seed, true)
	ltcX, _ := LTC.XPub(seed, false)
	acct, _ := BTC.account(seed, false)
	cases := []struct {
		c       *Chain
		xpub    string
		testnet bool
	}{
		{BTC, testX, false}, // tpub given for mainnet
		{BTC, mainX, true},
		{BTC, ltcX, false}, // Ltub given to BTC
		{LTC, mainX, false},
		{BTC, acct.String(), false}, // xprv
		{BTC, "xpub", false},
		{BTC, mainX[:len(mainX)-1] + "x", false},
	}
	for i, tc := range cases {
		// Twice: the second call goes through the cache.
		for range 2 {
			_, err := tc.c.AddressFromXPub(tc.xpub, 0, tc.testnet)
			if !errors.Is(err, ErrInvalidXPub) {
				t.Errorf("case %d: err = %v", i, err)
			}
			if err != nil && strings.Contains(err.Error(), acct.String()) {
				t.Errorf("case %d: error echoes the private key", i)
			}
		}
	}
	if _, err := BTC.AddressFromXPub(mainX, chain.MaxIndex+1, false); err == nil {
		t.Error("index 2^31 accepted")
	}
}

func TestPrivateKeyRefusals(t *testing.T) {
	seed, _ := chain.Seed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	mainWIF, _ := BTC.PrivateKey(seed, 0, false)
	dogeWIF, _ := DOGE.PrivateKey(seed, 0, false)
	for _, tc := range []struct {
		c       *Chain
		key     string
		testnet bool
	}{
		{BTC, mainWIF, true},
		{LTC, mainWIF, false},
		{BTC, dogeWIF, false},
		{BTC, "", false},
		{BTC, "0x" + strings.Repeat("11", 32), false},
		{BTC, mainWIF[:len(mainWIF)-1] + "1", false},
	} {
		_, err := tc.c.AddressFromPrivateKey(tc.key, tc.testnet)
		if !errors.Is(err, chain.ErrInvalidKey) {
			t.Errorf("%s %q: err = %v", tc.c.Info().Code, tc.key[:min(4, len(tc.key))], err)
		}
		if err != nil && tc.key != "" && strings.Contains(err.Error(), tc.key) {
			t.Error("error echoes the key")
		}
	}
}

func TestGeneratePrivateKey(t *testing.T) {
	// A reader giving first the zero scalar, then n (both invalid), then 0x01…
	n := btcec.S256().N.Bytes()
	r := bytes.NewReader(append(append(make([]byte, 32), n...), bytes.Repeat([]byte{1}, 32)...))
	for _, c := range all {
		r.Reset(append(append(make([]byte, 32), n...), bytes.Repeat([]byte{1}, 32)...))
		for _, testnet := range []bool{false, true} {
			r.Reset(append(append(make([]byte, 32), n...), bytes.Repeat([]byte{1}, 32)...))
			k, err := c.GeneratePrivateKey(r, testnet)
			if err != nil {
				t.Fatal(err)
			}
			w, err := btcutil.DecodeWIF(k)
			if err != nil || !w.CompressPubKey || !bytes.Equal(w.PrivKey.Serialize(), bytes.Repeat([]byte{1}, 32)) {
				t.Fatalf("%s: generated key wrong: %v", c.Info().Code, err)
			}
			if _, err := c.AddressFromPrivateKey(k, testnet); err != nil {
				t.Fatalf("%s: generated key refused: %v", c.Info().Code, err)
			}
		}
	}
	if _, err := BTC.GeneratePrivateKey(bytes.NewReader(nil), false); err == nil {
		t.Fatal("empty reader accepted")
	}
	// A source that only ever gives invalid scalars must end in an error, not a loop.
	if _, err := BTC.GeneratePrivateKey(bytes.NewReader(make([]byte, 32*100)), false); err == nil {
		t.Fatal("all-zero source accepted")
	}
}

func TestCashAddrRoundTrip(t *testing.T) {
	// bitcoincash:qqyx49mu0kkn9ftfj6hje6g2wfer34yfnq5tahq3q6 from derivation.json.
	v, h, err := cashDecode("bitcoincash", "bitcoincash:qqyx49mu0kkn9ftfj6hje6g2wfer34yfnq5tahq3q6")
	if err != nil || v != cashP2PKH || len(h) != 20 {
		t.Fatalf("decode: %v", err)
	}
	if s := cashEncode("bitcoincash", v, h); s != "bitcoincash:qqyx49mu0kkn9ftfj6hje6g2wfer34yfnq5tahq3q6" {
		t.Fatalf("re-encode = %s", s)
	}
	if _, _, err := cashDecode("bitcoincash", "QQYX49MU0KKN9FTFJ6HJE6G2WFER34YFNQ5TAHQ3Q6"); err != nil {
		t.Fatalf("upper case without prefix: %v", err)
	}
	for _, bad := range []string{"bitcoincash:qqyx49mu0kkn9ftfj6hje6g2wfer34yfnq5tahq3q7", "bchtest:qqyx49mu0kkn9ftfj6hje6g2wfer34yfnq5tahq3q6",
		"bitcoincash:qqyx49mu0kkn9ftfj6hje6g2wfer34yfnq5tahq3Q6", "bitcoincash:qqyx", "bitcoincash:bqyx49mu0kkn9ftfj6hje6g2wfer34yfnq5tahq3q6"} {
		if _, _, err := cashDecode("bitcoincash", bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// BenchmarkAddressFromXPub measures address derivation from one xpub (goal:
// ≥ 20,000 addresses/s per core).
// BenchmarkAddressFromXPub is the rate of addresses from one parsed xpub
// (chain.XPubAddresser), what a range of deposit addresses costs per address.
func BenchmarkAddressFromXPub(b *testing.B) {
	seed, _ := chain.Seed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	for _, c := range all {
		xpub, _ := c.XPub(seed, false)
		b.Run(c.Info().Code, func(b *testing.B) {
			addr, err := c.XPubAddresses(xpub, false)
			if err != nil {
				b.Fatal(err)
			}
			i := uint32(0)
			for b.Loop() {
				if _, err := addr(i); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkAddressFromXPubOnce is one address with its parse, as
// AddressFromXPub (getaddress) does.
func BenchmarkAddressFromXPubOnce(b *testing.B) {
	seed, _ := chain.Seed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	xpub, _ := BTC.XPub(seed, false)
	i := uint32(0)
	for b.Loop() {
		if _, err := BTC.AddressFromXPub(xpub, i, false); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// The addresses of one parsed xpub are AddressFromXPub's, from goroutines
// at once too, and an index out of range or an xpub of the other network is
// refused as AddressFromXPub refuses it.
func TestXPubAddressesMatchAddressFromXPub(t *testing.T) {
	seed, _ := chain.Seed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	for _, c := range all {
		for _, testnet := range []bool{false, true} {
			xpub, err := c.XPub(seed, testnet)
			if err != nil {
				t.Fatal(err)
			}
			addr, err := c.XPubAddresses(xpub, testnet)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%s testnet=%v", c.Info().Code, testnet)
			// The independent path: the child private keys from the seed;
			// and AddressFromXPub, which parses each time.
			chaintest.XPubAddresses(t, name, 40, addr, func(i uint32) (string, error) { return c.AddressFromSeed(seed, i, testnet) })
			chaintest.XPubAddresses(t, name, 8, addr, func(i uint32) (string, error) { return c.AddressFromXPub(xpub, i, testnet) })
			if _, err := c.XPubAddresses(xpub, !testnet); err == nil {
				t.Errorf("%s: an xpub of the other network was accepted", c.Info().Code)
			}
		}
	}
}

// A UTXO transaction is signed with a key per input, so each hash of a
// pending transaction names one (chain.Info.MultiKey).
func TestUTXOChainsAreMultiKey(t *testing.T) {
	for _, c := range all {
		if !c.Info().MultiKey {
			t.Errorf("%s is not multi-key", c.Info().Code)
		}
	}
}
