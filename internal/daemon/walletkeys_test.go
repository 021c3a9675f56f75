package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/custoskms/custos/internal/walletstore"
)

func TestStoreKeysSeesWalletsAddedAndRemoved(t *testing.T) {
	cheap := walletstore.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
	walletstore.TestKDF = &cheap
	t.Cleanup(func() { walletstore.TestKDF = nil })
	path := filepath.Join(t.TempDir(), "wallet.dat")
	pw := []byte("pw")
	daemonSide, err := walletstore.Open(t.Context(), path, pw, walletstore.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer daemonSide.Close()
	keys := NewStoreKeys(daemonSide)
	if refs, err := keys.List(t.Context()); err != nil || len(refs) != 0 {
		t.Fatalf("empty store: %v %v", refs, err)
	}

	// The CLI, another handle on the same file, adds wallets.
	cli, err := walletstore.Open(t.Context(), path, pw, walletstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if err := cli.PutMany(t.Context(), []walletstore.Entry{
		{ID: sigPK, Wallet: &walletstore.Wallet{PrivateKey: testPK, Chain: "ETH", Testnet: true}},
		{ID: sigMn, Wallet: &walletstore.Wallet{Mnemonic: testMnemonic, Chain: "BTC"}},
		{ID: sigOth, Wallet: &walletstore.Wallet{Secret: "SXLMSECRET", Address: "GADDR", Chain: "XLM"}},
	}); err != nil {
		t.Fatal(err)
	}
	refs, err := keys.List(t.Context())
	if err != nil || len(refs) != 3 {
		t.Fatalf("after add: %v %v", refs, err)
	}
	want := map[string]WalletRef{
		sigPK:  {SignatureID: sigPK, Chain: "ETH", Testnet: true},
		sigMn:  {SignatureID: sigMn, Chain: "BTC"},
		sigOth: {SignatureID: sigOth, Chain: "XLM"},
	}
	for _, r := range refs {
		if want[r.SignatureID] != r {
			t.Fatalf("ref %+v", r)
		}
	}
	w, err := keys.Wallet(t.Context(), sigOth)
	if err != nil || w.PrivateKey != "SXLMSECRET" {
		t.Fatal("keypair secret not given as the key")
	}
	w, err = keys.Wallet(t.Context(), sigMn)
	if err != nil || w.Mnemonic != testMnemonic || w.PrivateKey != "" {
		t.Fatal("mnemonic wallet not resolved")
	}

	if err := cli.Delete(t.Context(), sigMn); err != nil {
		t.Fatal(err)
	}
	refs, err = keys.List(t.Context())
	if err != nil || len(refs) != 2 {
		t.Fatalf("after remove: %v %v", refs, err)
	}
	if _, err := keys.Wallet(t.Context(), sigMn); !errors.Is(err, ErrUnknownWallet) {
		t.Fatalf("removed wallet: %v", err)
	}
}

// newTestStore is a new wallet store with a cheap KDF, closed at the test's end.
func newTestStore(t *testing.T) *walletstore.Store {
	t.Helper()
	cheap := walletstore.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
	walletstore.TestKDF = &cheap
	t.Cleanup(func() { walletstore.TestKDF = nil })
	s, err := walletstore.Open(t.Context(), filepath.Join(t.TempDir(), "wallet.dat"), []byte("pw"), walletstore.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStoreKeysListsManyNewWalletsAtOnce: past manyUnseen new wallets List
// reads the whole store at once; each ref still carries its own wallet's
// chain and network, and later additions are still seen one by one.
func TestStoreKeysListsManyNewWalletsAtOnce(t *testing.T) {
	s := newTestStore(t)
	chains := []string{"ETH", "BSC", "MATIC"}
	want := map[string]WalletRef{}
	var entries []walletstore.Entry
	for i := range 3 * manyUnseen {
		e := walletstore.Entry{ID: walletstore.NewID(), Wallet: &walletstore.Wallet{PrivateKey: testPK, Chain: chains[i%3], Testnet: i%2 == 0}}
		entries = append(entries, e)
		want[e.ID] = WalletRef{SignatureID: e.ID, Chain: e.Wallet.Chain, Testnet: e.Wallet.Testnet}
	}
	if err := s.PutMany(t.Context(), entries); err != nil {
		t.Fatal(err)
	}
	keys := NewStoreKeys(s)
	check := func() {
		t.Helper()
		refs, err := keys.List(t.Context())
		if err != nil || len(refs) != len(want) {
			t.Fatalf("%d refs, want %d: %v", len(refs), len(want), err)
		}
		for _, r := range refs {
			if want[r.SignatureID] != r {
				t.Fatalf("ref %+v, want %+v", r, want[r.SignatureID])
			}
		}
	}
	check()
	one := walletstore.Entry{ID: walletstore.NewID(), Wallet: &walletstore.Wallet{Mnemonic: testMnemonic, Chain: "BTC"}}
	if err := s.Put(t.Context(), one.ID, one.Wallet); err != nil {
		t.Fatal(err)
	}
	want[one.ID] = WalletRef{SignatureID: one.ID, Chain: "BTC"}
	check()
}

// TestStoreKeysPreload: preloaded wallets come from the one read Preload
// made (a wallet removed after it is still served, as List serves it until
// the next run); wallets not asked for are read from the store as before.
func TestStoreKeysPreload(t *testing.T) {
	s := newTestStore(t)
	if err := s.Put(t.Context(), sigPK, &walletstore.Wallet{PrivateKey: testPK, Chain: "ETH", Testnet: true}); err != nil {
		t.Fatal(err)
	}
	keys, err := NewStoreKeys(s).Preload(t.Context(), []string{sigPK, sigMn})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(t.Context(), sigPK); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), sigOth, &walletstore.Wallet{Secret: "SXLMSECRET", Chain: "XLM"}); err != nil {
		t.Fatal(err)
	}
	if w, err := keys.Wallet(t.Context(), sigPK); err != nil || w.PrivateKey != testPK || w.Chain != "ETH" || !w.Testnet {
		t.Fatalf("preloaded wallet: %+v %v", w, err)
	}
	if _, err := keys.Wallet(t.Context(), sigMn); !errors.Is(err, ErrUnknownWallet) {
		t.Fatalf("wallet absent at preload: %v", err)
	}
	if w, err := keys.Wallet(t.Context(), sigOth); err != nil || w.PrivateKey != "SXLMSECRET" {
		t.Fatalf("wallet not preloaded: %+v %v", w, err)
	}
}

// preloadKeys is a key source whose wallets only its preloaded Keys give.
type preloadKeys struct {
	*memKeys
	asked [][]string
}

func (k *preloadKeys) Wallet(context.Context, string) (Wallet, error) {
	return Wallet{}, errors.New("read one by one")
}

func (k *preloadKeys) Preload(_ context.Context, ids []string) (Keys, error) {
	k.asked = append(k.asked, slices.Sorted(slices.Values(ids)))
	return k.memKeys, nil
}

// TestRunPreloadsItsWallets: a run reads the wallets of the transactions it
// signs at once, through the source's Preload.
func TestRunPreloadsItsWallets(t *testing.T) {
	h := newHarness(t)
	h.queueThree()
	keys := &preloadKeys{memKeys: h.keys}
	d, err := New(Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: h.ledger, Lookup: lookupOf(h.chain), Concurrency: 4},
		h.api.client(), keys)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sum, err := d.RunOnce(t.Context())
	if err != nil || sum != (Summary{Pending: 2, Signed: 2, Submitted: 2}) {
		t.Fatalf("summary %+v %v", sum, err)
	}
	want := slices.Sorted(slices.Values([]string{sigPK, sigMn}))
	if len(keys.asked) != 1 || !slices.Equal(keys.asked[0], want) {
		t.Fatalf("preloaded %v, want one preload of %v", keys.asked, want)
	}
}
