package walletstore

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/custoskms/custos/internal/vectors"
)

func TestDecryptTatum(t *testing.T) {
	want := vectors.Tatum()
	got, err := DecryptTatum(vectors.TatumWalletDat, []byte(want.Password))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want.Wallets) {
		t.Fatalf("%d records, want %d", len(got), len(want.Wallets))
	}
	for id, fields := range want.Wallets {
		w, err := ParseTatumRecord(id, got[id])
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		b, _ := json.Marshal(w)
		var m map[string]any
		json.Unmarshal(b, &m)
		for k, v := range fields {
			if m[k] != v {
				t.Errorf("%s.%s = %v, want %v", id, k, m[k], v)
			}
		}
	}
	if _, err := DecryptTatum(vectors.TatumWalletDat, []byte("wrong")); !errors.Is(err, ErrTatumPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	for _, bad := range []string{"", "!!!", "U2FsdGVkX18=", string(vectors.TatumWalletDat[:40])} {
		if _, err := DecryptTatum([]byte(bad), []byte(want.Password)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzDecryptTatum(f *testing.F) {
	f.Add(vectors.TatumWalletDat, []byte(vectors.Tatum().Password))
	f.Add(vectors.TatumWalletDat[:64], []byte("x"))
	f.Add([]byte("U2FsdGVkX1+hwHnwaZ7nk2XH/69JqRrO+EwY3Z9AREk="), []byte(""))
	f.Fuzz(func(t *testing.T, data, pw []byte) {
		recs, err := DecryptTatum(data, pw)
		if err != nil {
			return
		}
		for id, r := range recs {
			ParseTatumRecord(id, r)
		}
	})
}
