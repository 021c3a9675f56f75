package walletstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
)

func TestEachVisitsEveryWalletInOrderAndStopsAtAnError(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	want := []Entry{
		{ID: "a", Wallet: &Wallet{Mnemonic: testMnemonic, XPub: "xpub…", Chain: "ETH", Testnet: true}},
		{ID: "b", Wallet: &Wallet{PrivateKey: testKey, Chain: "BSC"}},
		{ID: "c", Wallet: &Wallet{Secret: "SXLM", Address: "GADDR", Chain: "XLM"}},
	}
	if err := s.PutMany(ctx, []Entry{want[2], want[0], want[1]}); err != nil {
		t.Fatal(err)
	}
	var got []Entry
	if err := s.Each(ctx, func(id string, w *Wallet) error {
		got = append(got, Entry{ID: id, Wallet: w})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("visited %d wallets, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || *got[i].Wallet != *want[i].Wallet {
			t.Fatalf("wallet %d: %s %+v, want %s %+v", i, got[i].ID, got[i].Wallet, want[i].ID, want[i].Wallet)
		}
	}

	stop := errors.New("stop")
	visited := 0
	if err := s.Each(ctx, func(string, *Wallet) error { visited++; return stop }); !errors.Is(err, stop) || visited != 1 {
		t.Fatalf("fn's error: %v after %d wallets, want it after 1", err, visited)
	}
	s.Close()
	if err := s.Each(ctx, func(string, *Wallet) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed store: %v", err)
	}
}

// Several blocks of records, opened on every core, still reach fn once each,
// in ID order, each the wallet stored under its ID.
func TestEachAcrossBlocks(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	n := 2*eachBlock + 7
	entries := make([]Entry, n)
	for i := range entries {
		entries[i] = Entry{ID: fmt.Sprintf("id-%05d", i), Wallet: &Wallet{PrivateKey: testKey, Chain: "ETH", Address: strconv.Itoa(i)}}
	}
	if err := s.PutMany(ctx, entries); err != nil {
		t.Fatal(err)
	}
	i := 0
	if err := s.Each(ctx, func(id string, w *Wallet) error {
		if id != entries[i].ID || w.Address != strconv.Itoa(i) {
			return fmt.Errorf("visit %d: %s with address %s, want %s with %d", i, id, w.Address, entries[i].ID, i)
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
