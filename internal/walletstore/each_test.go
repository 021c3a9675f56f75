package walletstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/custoskms/custos/internal/remotekey"
)

func TestEachRefVisitsEveryWalletInOrderAndStopsAtAnError(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	entries := []Entry{
		{ID: "a", Wallet: &Wallet{Mnemonic: testMnemonic, XPub: "xpub…", Chain: "ETH", Testnet: true}},
		{ID: "b", Wallet: &Wallet{PrivateKey: testKey, Chain: "BSC"}},
		{ID: "c", Wallet: &Wallet{Secret: "SXLM", Address: "GADDR", Chain: "XLM"}},
	}
	if err := s.PutMany(ctx, []Entry{entries[2], entries[0], entries[1]}); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := s.EachRef(ctx, func(id string, r Ref) error {
		got = append(got, fmt.Sprintf("%s %s %v", id, r.Chain, r.Testnet))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a ETH true", "b BSC false", "c XLM false"}; !slices.Equal(got, want) {
		t.Fatalf("visited %q, want %q", got, want)
	}

	stop := errors.New("stop")
	visited := 0
	if err := s.EachRef(ctx, func(string, Ref) error { visited++; return stop }); !errors.Is(err, stop) || visited != 1 {
		t.Fatalf("fn's error: %v after %d wallets, want it after 1", err, visited)
	}
	s.Close()
	if err := s.EachRef(ctx, func(string, Ref) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed store: %v", err)
	}
}

// Several blocks of records, opened on every core, still reach fn once each,
// in ID order, each the wallet stored under its ID.
func TestEachRefAcrossBlocks(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	n := 2*eachBlock + 7
	entries := make([]Entry, n)
	for i := range entries {
		entries[i] = Entry{ID: fmt.Sprintf("id-%05d", i), Wallet: &Wallet{PrivateKey: testKey, Chain: "C" + strconv.Itoa(i)}}
	}
	if err := s.PutMany(ctx, entries); err != nil {
		t.Fatal(err)
	}
	i := 0
	if err := s.EachRef(ctx, func(id string, r Ref) error {
		if id != entries[i].ID || r.Chain != "C"+strconv.Itoa(i) {
			return fmt.Errorf("visit %d: %s with chain %s, want %s with C%d", i, id, r.Chain, entries[i].ID, i)
		}
		i++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if i != n {
		t.Fatalf("visited %d wallets, want %d", i, n)
	}
}

// EachRef gives every wallet's chain and network as the full decode (All)
// reads them, for the records quickRef reads and for those it leaves to
// decodeRecord (a remote key).
func TestEachRefAgreesWithAll(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	entries := []Entry{
		{ID: "a", Wallet: &Wallet{Mnemonic: testMnemonic, XPub: "xpub…", Chain: "ETH", Testnet: true}},
		{ID: "b", Wallet: &Wallet{PrivateKey: testKey, Chain: "BSC"}},
		{ID: "c", Wallet: &Wallet{Secret: "SXLM", Address: "GADDR", Chain: "XLM", Testnet: true}},
		{ID: "d", Wallet: &Wallet{Remote: &remotekey.Ref{Backend: "AWSKMS", KeyID: "alias/k", PublicKey: "02ab"}, Address: "0xabc", Chain: "ETH"}},
	}
	for i := range 300 {
		entries = append(entries, Entry{ID: fmt.Sprintf("e%04d", i), Wallet: &Wallet{PrivateKey: testKey, Chain: "MATIC", Testnet: i%2 == 0}})
	}
	if err := s.PutMany(ctx, entries); err != nil {
		t.Fatal(err)
	}
	all, err := s.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	if err := s.EachRef(ctx, func(id string, r Ref) error {
		want := all[i]
		if id != want.ID || r != (Ref{Chain: want.Wallet.Chain, Testnet: want.Wallet.Testnet}) {
			return fmt.Errorf("visit %d: %s %+v, want %s %s/%v", i, id, r, want.ID, want.Wallet.Chain, want.Wallet.Testnet)
		}
		i++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if i != len(entries) {
		t.Fatalf("visited %d wallets, want %d", i, len(entries))
	}
}

// FuzzQuickRef holds quickRef to decodeRecord: a plaintext it reads is one
// that decodeRecord accepts, with the same chain and network.
func FuzzQuickRef(f *testing.F) {
	for _, w := range []Wallet{
		{PrivateKey: testKey, Chain: "ETH", Testnet: true},
		{Mnemonic: testMnemonic, XPub: "xpub", Chain: "BTC"},
		{Secret: "S", Address: "G", Chain: "XLM"},
		{Remote: &remotekey.Ref{Backend: "AWSKMS", KeyID: "k"}, Chain: "ETH"},
	} {
		b, err := json.Marshal(w)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{"chain":"ETH","privateKey":"","secret":"x","testnet":null}`, `{"chain":"ETH","Chain":"BTC","privateKey":"k"}`,
		`{"CHAIN":"ETH","privateKey":"k"}`, `{"chain":"E\u0054H","privateKey":"k"}`, `{"chain":"ETH","privateKey":5}`, `{"chain":"ETH","privateKey":"k","secret":5}`, `{"chain":"ETH","privateKey":"k","xpub":[]}`, `{"chain":"ETH","mnemonic":null,"secret":"\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, pt []byte) {
		r, ok := quickRef(pt)
		if !ok {
			return
		}
		w, err := decodeRecord("id", pt)
		if err != nil {
			t.Fatalf("%q: quickRef read %+v, decodeRecord refuses it: %v", pt, r, err)
		}
		if r != (Ref{Chain: w.Chain, Testnet: w.Testnet}) {
			t.Fatalf("%q: quickRef %+v, decodeRecord %s/%v", pt, r, w.Chain, w.Testnet)
		}
	})
}
