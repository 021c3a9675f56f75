package chain

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
)

func TestChildPubKeyMatchesBIP32(t *testing.T) {
	seed, _ := Seed(abandon)
	h := &HDSecp256k1{}
	acct, err := DeriveBIP32(seed, &chaincfg.MainNetParams, MustPath("m/44'/195'/0'/0"))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := acct.Neuter()
	for _, i := range []uint32{0, 1, 7, 1000, MaxIndex} {
		c, _ := acct.Derive(i)
		want, _ := c.ECPubKey()
		got, err := h.ChildPubKey(pub.String(), i)
		if err != nil || !got.IsEqual(want) {
			t.Fatalf("index %d: %v", i, err)
		}
	}
	if _, err := h.ChildPubKey(pub.String(), MaxIndex+1); err == nil {
		t.Error("hardened index accepted")
	}
	if k, err := ParseXPub(pub.String()); err != nil {
		t.Fatal(err)
	} else if _, err := k.ChildPoint(Hardened); !errors.Is(err, hdkeychain.ErrDeriveHardFromPublic) {
		t.Errorf("ChildPoint(hardened): %v", err)
	}
	if _, err := h.ChildPubKey(acct.String(), 0); err == nil || bytes.Contains([]byte(err.Error()), []byte(acct.String())) {
		t.Errorf("xprv: %v", err)
	}
	for _, bad := range []string{"", "xpub", pub.String()[:100], pub.String() + "1"} {
		if _, err := h.ChildPubKey(bad, 0); err == nil {
			t.Errorf("bad xpub %q accepted", bad)
		}
	}
}

func TestParseHexKey(t *testing.T) {
	const k = "b5a4cea271ff424d7c31dc12a3e43e401df7a40d7412a15750f3f0b6b5449a28"
	for _, s := range []string{k, "0x" + k, "0X" + k} {
		if _, err := ParseHexKey(s, false); err != nil {
			t.Errorf("%v", err)
		}
	}
	if _, err := ParseHexKey("1", true); err != nil {
		t.Errorf("short key with allowShort: %v", err)
	}
	for _, s := range []string{"", "1", k[1:], k + "0", "0x", k[:63] + "g"} {
		if _, err := ParseHexKey(s, false); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ParseHexKey(#%d) = %v", len(s), err)
		}
	}
	if _, err := RandomSecp256k1(bytes.NewReader(make([]byte, 1024))); err == nil {
		t.Error("a zero random source gave a key")
	}
}

func TestBech32(t *testing.T) {
	data := bytes.Repeat([]byte{0xab}, 20)
	s := Bech32Encode("bnb", data)
	got, err := Bech32Decode(s, "bnb", 20)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := Bech32Decode(s, "tbnb", 20); err == nil {
		t.Error("wrong prefix accepted")
	}
	if _, err := Bech32Decode(s, "bnb", 32); err == nil {
		t.Error("wrong size accepted")
	}
}

func TestTxHelpers(t *testing.T) {
	for _, s := range []string{"", "0", "0g", "\x10\x10", "a b "} {
		if IsHex(s) {
			t.Errorf("IsHex(%q)", s)
		}
	}
	if !IsHex("00aAfF") || !IsDecimal("0123") || IsDecimal("") || IsDecimal("1.5") {
		t.Error("IsHex/IsDecimal")
	}
	o, err := ParseJSONObject(`{"a":"1","n":5,"q":"7","z":null}`)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := o.Uint("q", true); err != nil || n != 7 {
		t.Errorf("quoted uint: %d %v", n, err)
	}
	if _, err := o.Uint("q", false); !errors.Is(err, ErrInvalidTx) {
		t.Errorf("quoted uint refused: %v", err)
	}
	if o.Has("z") || !o.Has("n") {
		t.Error("Has")
	}
	if _, err := ParseJSONObject(`{} {}`); err == nil {
		t.Error("trailing object accepted")
	}
}

func FuzzChildPubKey(f *testing.F) {
	f.Add("xpub6EuK4CZWW5urEHdwAVDdDw327danAtccFcrXYvgf1DHrPXRwErt36xStQ2PNhn4hpwzPbzJ8pJVpewgChRnSs59q5Ay61GCfQZKUe71gbLq", uint32(0))
	f.Add("xpub", uint32(1<<31))
	h := &HDSecp256k1{}
	f.Fuzz(func(t *testing.T, xpub string, i uint32) { _, _ = h.ChildPubKey(xpub, i) })
}
