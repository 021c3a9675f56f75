package main

import (
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/vectors"
)

// TestGenerateWalletShapes checks what generatewallet prints per chain against
// the shape of Tatum's generateWallet, and that the parts agree with each other.
func TestGenerateWalletShapes(t *testing.T) {
	k := newKeyCLI(t)
	for _, code := range chains.Codes() {
		for _, testnet := range []bool{false, true} {
			args := []string{"generatewallet", code}
			if testnet {
				args = append([]string{"--testnet"}, args...)
			}
			var w map[string]string
			k.ok(&w, nil, args...)
			c, d, err := deriverFor(code)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.Info().Kind == chain.KeypairWallet:
				key := w["privateKey"]
				if c.Info().KeyField == chain.SecretField {
					key = w["secret"]
				}
				addr, err := d.AddressFromPrivateKey(key, testnet)
				if err != nil || addr != w["address"] || len(w) != 2 {
					t.Errorf("%s: %v (address %s, %v)", code, w, addr, err)
				}
			case c.Info().Kind == chain.MnemonicKeyWallet:
				seed, _ := chain.Seed(w["mnemonic"])
				addr, _ := d.AddressFromSeed(seed, 0, testnet)
				if addr != w["address"] || w["privateKey"] == "" || len(w) != 3 {
					t.Errorf("SOL: %v", w)
				}
			default:
				seed, err := chain.Seed(w["mnemonic"])
				if err != nil {
					t.Fatalf("%s: %v", code, err)
				}
				if n := len(strings.Fields(w["mnemonic"])); n != 24 {
					t.Errorf("%s: %d words", code, n)
				}
				xpub, err := d.XPub(seed, testnet)
				if code == "EGLD" {
					if len(w) != 1 {
						t.Errorf("EGLD prints %v, Tatum gives the mnemonic only", w)
					}
					continue
				}
				if err != nil || xpub != w["xpub"] || len(w) != 2 {
					t.Errorf("%s: %v (xpub %s, %v)", code, w, xpub, err)
				}
			}
		}
	}
}

// TestStoredWalletsMatchVectors stores every mnemonic of the derivation vectors
// and checks xpub, getaddress and getprivatekey at every index against Tatum's
// outputs; and every secret vector through storemanagedprivatekey.
func TestStoredWalletsMatchVectors(t *testing.T) {
	k := newKeyCLI(t)
	for _, v := range vectors.Derivations() {
		net := []string{}
		if v.Testnet {
			net = []string{"--testnet"}
		}
		var s sigOut
		switch v.Kind {
		case "mnemonic", "mnemonic-sol":
			k.ok(&s, []string{v.Mnemonic}, append(net, "storemanagedwallet", v.Chain)...)
			if v.XPub != nil && s.XPub != *v.XPub {
				t.Errorf("%s testnet=%v xpub %s, want %s", v.Chain, v.Testnet, s.XPub, *v.XPub)
			}
			for _, ix := range v.Indices {
				var a, p map[string]string
				idx := uitoa(ix.Index)
				k.ok(&a, nil, "getaddress", s.SignatureID, idx)
				k.ok(&p, nil, "getprivatekey", s.SignatureID, idx)
				if a["address"] != ix.Address || p["privateKey"] != ix.PrivateKey {
					t.Errorf("%s testnet=%v index %d: %s %s, want %s %s", v.Chain, v.Testnet, ix.Index,
						a["address"], p["privateKey"], ix.Address, ix.PrivateKey)
				}
				if v.Kind == "mnemonic-sol" && ix.Index == 0 && s.Address != ix.Address {
					t.Errorf("SOL stored address %s, want index 0 %s", s.Address, ix.Address)
				}
			}
		case "secret":
			key := v.Secret
			if key == "" {
				key = v.PrivateKey
			}
			k.ok(&s, []string{key}, append(net, "storemanagedprivatekey", v.Chain)...)
			var a, p map[string]string
			k.ok(&a, nil, "getaddress", s.SignatureID, "0")
			k.ok(&p, nil, "getprivatekey", s.SignatureID, "5")
			if a["address"] != v.Address || p["privateKey"] != key {
				t.Errorf("%s secret: %s %s, want %s", v.Chain, a["address"], p["privateKey"], v.Address)
			}
		}
	}
}

func uitoa(u uint32) string {
	if u == 0 {
		return "0"
	}
	var b []byte
	for ; u > 0; u /= 10 {
		b = append([]byte{byte('0' + u%10)}, b...)
	}
	return string(b)
}

func TestBadInputChangesNothing(t *testing.T) {
	k := newKeyCLI(t)
	var s sigOut
	k.ok(&s, []string{abandon12}, "storemanagedwallet", "ETH")
	k.fails("unknown chain", nil, "generatemanagedwallet", "DOGECOIN")
	k.fails("unknown chain", []string{abandon12}, "storemanagedwallet", "NOPE")
	k.fails("invalid mnemonic", []string{"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon"}, "storemanagedwallet", "BTC")
	k.fails("invalid mnemonic", []string{"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon zzzz"}, "storemanagedwallet", "BTC")
	k.fails("keypairs", []string{abandon12}, "storemanagedwallet", "XLM")
	k.fails("invalid private key", []string{"0x1234"}, "storemanagedprivatekey", "ETH")
	k.fails("invalid private key", []string{"L1uyy5qTuGrVXrmrsvHWHgVzW9kKdrp27wBC7Vs6nZDTF2BRUVwy"}, "storemanagedprivatekey", "ETH")
	k.fails("invalid private key", []string{"SAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "storemanagedprivatekey", "XLM")
	k.fails("no such wallet", nil, "getaddress", "00000000-0000-4000-8000-000000000000", "0")
	k.fails("no such wallet", nil, "getprivatekey", "nope", "0")
	k.fails("no such wallet", nil, "getmanagedwallet", "nope")
	k.fails("no such wallet", nil, "removewallet", "nope")
	k.fails("out of range", nil, "getaddress", s.SignatureID, "2147483648")
	k.fails("must be a number", nil, "getprivatekey", s.SignatureID, "1x")
	k.fails("must be a number", nil, "generatemanagedprivatekeybatch", "ETH", "0")
	k.fails("expected the mnemonic", nil, "storemanagedwallet", "ETH")
	// Wrong password.
	var out, errs string
	var code int
	before := readFile(t, k.path)
	out, errs, code = k.runWithPassword("not the password", nil, "getaddress", s.SignatureID, "0")
	if code == 0 || out != "" || !contains(errs, "invalid password") || !bytesEqual(before, readFile(t, k.path)) {
		t.Fatalf("wrong password: %d %q %q", code, out, errs)
	}
	// removewallet works, then the ID is gone.
	k.ok(nil, nil, "removewallet", s.SignatureID)
	k.fails("no such wallet", nil, "getaddress", s.SignatureID, "0")
}
