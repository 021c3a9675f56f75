package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/custoskms/custos/internal/walletstore"
)

// StoreKeys is the Keys of an open wallet store. The store reads its file on
// every call, so wallets the CLI adds or removes while the daemon runs are seen
// at the next period. Chain and network live inside the sealed records: List
// opens only the records it has not seen before.
type StoreKeys struct {
	store *walletstore.Store

	mu   sync.Mutex
	refs map[string]WalletRef
}

var _ Keys = (*StoreKeys)(nil)

// NewStoreKeys adapts an open wallet store; the caller keeps closing it.
func NewStoreKeys(s *walletstore.Store) *StoreKeys {
	return &StoreKeys{store: s, refs: map[string]WalletRef{}}
}

// List implements Keys.
func (k *StoreKeys) List(ctx context.Context) ([]WalletRef, error) {
	ids, err := k.store.IDs(ctx)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.learnMany(ctx, ids); err != nil {
		return nil, err
	}
	present := make(map[string]bool, len(ids))
	out := make([]WalletRef, 0, len(ids))
	for _, id := range ids {
		present[id] = true
		ref, ok := k.refs[id]
		if !ok {
			w, err := k.Wallet(ctx, id)
			if errors.Is(err, ErrUnknownWallet) {
				continue // removed meanwhile
			}
			if err != nil {
				return nil, err
			}
			ref = w.WalletRef
			k.refs[id] = ref
		}
		out = append(out, ref)
	}
	for id := range k.refs {
		if !present[id] {
			delete(k.refs, id)
		}
	}
	return out, nil
}

// manyUnseen is how many wallets List must not know before it reads the
// whole store at once rather than each unseen record by itself: one query per
// record costs ten times the record's decryption, so at a daemon's start over
// 10,000 wallets the one read saves about a second, while a period that meets
// a few new wallets still reads only those.
const manyUnseen = 64

// learnMany records the refs of the wallets among ids that List has not seen,
// when they are many, in one read of the store; List reads the rest itself.
// k.mu is held.
func (k *StoreKeys) learnMany(ctx context.Context, ids []string) error {
	unseen := 0
	for _, id := range ids {
		if _, ok := k.refs[id]; !ok {
			unseen++
		}
	}
	if unseen < manyUnseen {
		return nil
	}
	// Only each record's chain and network: the keys of wallets that no
	// transaction names are not decoded.
	return k.store.EachRef(ctx, func(id string, r walletstore.Ref) error {
		if _, ok := k.refs[id]; !ok {
			k.refs[id] = WalletRef{SignatureID: id, Chain: r.Chain, Testnet: r.Testnet}
		}
		return nil
	})
}

// Wallet implements Keys. Keypair chains keep their key as Secret (XLM, XRP):
// it is what their signer takes.
func (k *StoreKeys) Wallet(ctx context.Context, id string) (Wallet, error) {
	w, err := k.store.Get(ctx, id)
	return storeWallet(id, w, err)
}

// storeWallet is the daemon's Wallet for the store's answer (w, err) for id.
func storeWallet(id string, w *walletstore.Wallet, err error) (Wallet, error) {
	if errors.Is(err, walletstore.ErrNotFound) {
		return Wallet{}, fmt.Errorf("%w: %s", ErrUnknownWallet, id)
	}
	if err != nil {
		return Wallet{}, err
	}
	out := Wallet{WalletRef: WalletRef{SignatureID: id, Chain: w.Chain, Testnet: w.Testnet}, Mnemonic: w.Mnemonic, PrivateKey: w.PrivateKey, Remote: w.Remote}
	if out.Mnemonic == "" && out.PrivateKey == "" && out.Remote == nil {
		out.PrivateKey = w.Secret
	}
	return out, nil
}

var _ Preloader = (*StoreKeys)(nil)

// Preload implements Preloader: the records of ids are read in one query and
// kept sealed until Wallet opens them, one at a time.
func (k *StoreKeys) Preload(ctx context.Context, ids []string) (Keys, error) {
	f, err := k.store.Fetch(ctx, ids)
	if err != nil {
		return nil, err
	}
	return &fetchedKeys{StoreKeys: k, fetched: f, asked: set(ids)}, nil
}

// fetchedKeys serves the wallets it was preloaded with from that one read,
// and any other from the store as StoreKeys does.
type fetchedKeys struct {
	*StoreKeys
	fetched *walletstore.Fetched
	asked   map[string]bool
}

// Wallet implements Keys.
func (k *fetchedKeys) Wallet(ctx context.Context, id string) (Wallet, error) {
	if !k.asked[id] {
		return k.StoreKeys.Wallet(ctx, id)
	}
	w, err := k.fetched.Get(ctx, id)
	return storeWallet(id, w, err)
}
