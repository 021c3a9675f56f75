package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/vectors"
)

// pendingFromVector turns a signing vector's pending transaction into the
// daemon's type, through JSON as the API would serve it.
func pendingFromVector(t testing.TB, v vectors.Signing) PendingTx {
	b, err := json.Marshal(v.PendingTransaction)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := ParsePendingTx(b)
	if err != nil {
		t.Fatalf("%s: %v", v.Chain, err)
	}
	return tx
}

func keysFromVector(v vectors.Signing) *memKeys {
	k := newMemKeys()
	for _, key := range v.Keys {
		w := Wallet{WalletRef: WalletRef{SignatureID: key.SignatureID, Chain: v.Chain, Testnet: v.Testnet}}
		if key.Type == "mnemonic" {
			w.Mnemonic = key.Secret
		} else {
			w.PrivateKey = key.Secret
		}
		k.put(w)
	}
	return k
}

// Every signing vector names its wallets and, for mnemonic wallets, the key
// the reference implementation derived: the resolver must find the same keys.
func TestResolverMatchesSigningVectors(t *testing.T) {
	checked := 0
	for _, v := range vectors.Signings() {
		c, err := chains.Lookup(v.Chain)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.(chain.Deriver); !ok {
			t.Logf("%s: no key derivation yet, row not checked", v.Chain)
			continue
		}
		tx := pendingFromVector(t, v)
		r := NewResolver(keysFromVector(v), v.Testnet)
		got, err := r.Resolve(t.Context(), c, tx)
		r.Close()
		if err != nil {
			t.Errorf("%s %s: %v", v.Chain, tx.ID, err)
			continue
		}
		var want []string
		for _, k := range v.Keys {
			if k.DerivedPrivateKey != "" {
				want = append(want, k.DerivedPrivateKey)
			} else {
				want = append(want, k.Secret)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s %s: %d keys, want %d", v.Chain, tx.ID, len(got), len(want))
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s %s: key %d differs from the vector's", v.Chain, tx.ID, i)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no vector checked")
	}
	t.Logf("%d signing vectors resolved", checked)
}

func TestResolverRefusals(t *testing.T) {
	k := newMemKeys(
		Wallet{WalletRef: WalletRef{SignatureID: sigPK, Chain: "ETH", Testnet: true}, PrivateKey: testPK},
		Wallet{WalletRef: WalletRef{SignatureID: sigMn, Chain: "ETH", Testnet: false}, Mnemonic: testMnemonic},
	)
	for name, tc := range map[string]struct {
		testnet bool
		tx      PendingTx
		want    error
	}{
		"mainnet wallet on testnet": {true, PendingTx{Chain: "ETH", Hashes: []string{sigMn}, Index: u32(0)}, ErrWalletMismatch},
		"testnet wallet on mainnet": {false, PendingTx{Chain: "ETH", Hashes: []string{sigPK}}, ErrWalletMismatch},
		"other chain's tx":          {true, PendingTx{Chain: "BSC", Hashes: []string{sigPK}}, ErrWalletMismatch},
		"unknown wallet":            {true, PendingTx{Chain: "ETH", Hashes: []string{sigOth}}, ErrUnknownWallet},
		"mnemonic without index":    {false, PendingTx{Chain: "ETH", Hashes: []string{sigMn}}, ErrNoIndex},
		"signatures[] on a key":     {true, PendingTx{Chain: "ETH", Signatures: []Signature{{ID: sigPK, Index: u32(0)}}}, ErrWalletMismatch},
		"signatures[] no index":     {false, PendingTx{Chain: "ETH", Signatures: []Signature{{ID: sigMn}}}, ErrNoIndex},
	} {
		r := NewResolver(k, tc.testnet)
		_, err := r.Resolve(t.Context(), evm.ETH, tc.tx)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func FuzzParsePendingTx(f *testing.F) {
	f.Add([]byte(`{"id":"65f1c0de0000000000000001","chain":"ETH","serializedTransaction":"0x01","hashes":["a"],"index":3}`))
	f.Add([]byte(`{"id":"x","chain":"BTC","serializedTransaction":"{}","hashes":[],"signatures":[{"id":"s","index":1}]}`))
	f.Add([]byte(`{"index":-1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"id":"x","chain":"ETH","serializedTransaction":"y","hashes":null,"withdrawalResponses":[{"a":1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := ParsePendingTx(b)
		if err != nil {
			return
		}
		if !validPendingID(tx.ID) || tx.Chain == "" || tx.SerializedTransaction == "" || (len(tx.Hashes) == 0 && len(tx.Signatures) == 0) {
			t.Fatalf("accepted an incomplete transaction: %+v", tx)
		}
		if string(tx.JSON()) != string(b) {
			t.Fatal("raw JSON not kept")
		}
	})
}

// Transactions of one mnemonic wallet resolved at once share a single seed:
// a seed derived by a caller that lost the race would never be wiped by Close.
func TestResolverSeedOncePerWallet(t *testing.T) {
	var mnemonic string
	for _, v := range vectors.Signings() {
		for _, k := range v.Keys {
			if k.Type == "mnemonic" {
				mnemonic = k.Secret
			}
		}
	}
	if mnemonic == "" {
		t.Fatal("no mnemonic wallet among the signing vectors")
	}
	r := NewResolver(newMemKeys(), false)
	const n = 16
	seeds := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := r.seed("w", mnemonic)
			if err != nil {
				t.Error(err)
			}
			seeds[i] = s
		})
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if &seeds[i][0] != &seeds[0][0] {
			t.Fatalf("caller %d got its own copy of the seed", i)
		}
	}
	r.Close()
	if !bytes.Equal(seeds[0], make([]byte, len(seeds[0]))) {
		t.Fatal("Close left the seed unwiped")
	}
	if _, err := r.seed("bad", "not a mnemonic"); !errors.Is(err, chain.ErrInvalidMnemonic) {
		t.Fatalf("invalid mnemonic: got %v, want ErrInvalidMnemonic", err)
	}
}

// A multi-key chain (Info.MultiKey) resolves a key per hash; the others the
// wallet of hashes[0] alone.
func TestResolverKeyPerHashOnMultiKeyChains(t *testing.T) {
	for _, multi := range []bool{false, true} {
		c := infoChain{chain.Info{Code: "XKEY", Slug: "xkey", MultiKey: multi}}
		k := newMemKeys(
			Wallet{WalletRef: WalletRef{SignatureID: sigPK, Chain: "XKEY"}, PrivateKey: "key-1"},
			Wallet{WalletRef: WalletRef{SignatureID: sigOth, Chain: "XKEY"}, PrivateKey: "key-2"},
		)
		r := NewResolver(k, false)
		got, err := r.Resolve(t.Context(), c, PendingTx{Chain: "XKEY", Hashes: []string{sigPK, sigOth}})
		want := []string{"key-1"}
		if multi {
			want = append(want, "key-2")
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("MultiKey %v: %v, %v; want %v", multi, got, err, want)
		}
	}
}

type infoChain struct{ info chain.Info }

func (c infoChain) Info() chain.Info { return c.info }
