package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/custoskms/custos/internal/chain"
)

// Resolver turns a pending transaction's signature IDs into private keys
// (docs/design.md §6.2): hashes name a private-key wallet, or a mnemonic
// wallet derived at the transaction's index; signatures[] name mnemonic
// wallets, each with its own index. A wallet of another chain or network is
// refused, and so is, when the Resolver is limited to some wallets
// (--wallets), a transaction naming any other.
//
// A Resolver caches BIP-39 seeds so a period pays PBKDF2 once per mnemonic,
// also when many transactions of one wallet ask for it at once; it is safe
// for concurrent use. Call Close to wipe the cache.
type Resolver struct {
	keys    Keys
	testnet bool
	// only, when set, are the wallets it may sign with (the daemon's --wallets).
	only map[string]bool

	mu    sync.Mutex
	seeds map[string]*seedEntry
}

// seedEntry is one wallet's seed, computed by the first caller; the others
// wait for it instead of deriving (and leaving unwiped) a copy of their own.
type seedEntry struct {
	once sync.Once
	seed []byte
	err  error
}

// NewResolver returns a Resolver for wallets of the given network.
func NewResolver(keys Keys, testnet bool) *Resolver {
	return &Resolver{keys: keys, testnet: testnet, seeds: map[string]*seedEntry{}}
}

// Close zeroes the cached seeds.
func (r *Resolver) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, e := range r.seeds {
		clear(e.seed)
		delete(r.seeds, id)
	}
}

// Resolve returns the keys to sign tx with on chain c, in the order the
// chain's SignRequest.Keys expects.
func (r *Resolver) Resolve(ctx context.Context, c chain.Chain, tx PendingTx) ([]string, error) {
	code := c.Info().Code
	if !strings.EqualFold(tx.Chain, code) {
		return nil, fmt.Errorf("%w: transaction for %s handled as %s", ErrWalletMismatch, tx.Chain, code)
	}
	if r.only != nil {
		// Every wallet the transaction names, not only those a chain signs
		// with: a transaction that names a wallet outside the set is not this
		// daemon's to sign, even if the wallet it would sign with is in it.
		for _, id := range tx.signatureIDs() {
			if !r.only[id] {
				return nil, fmt.Errorf("%w: transaction names wallet %s", ErrWalletNotAllowed, id)
			}
		}
	}
	if len(tx.Signatures) > 0 {
		keys := make([]string, 0, len(tx.Signatures))
		for i, s := range tx.Signatures {
			if s.Index == nil {
				return nil, fmt.Errorf("signatures[%d] (%s): %w", i, s.ID, ErrNoIndex)
			}
			k, err := r.key(ctx, c, s.ID, s.Index, true)
			if err != nil {
				return nil, fmt.Errorf("signatures[%d]: %w", i, err)
			}
			keys = append(keys, k)
		}
		return keys, nil
	}
	if len(tx.Hashes) == 0 {
		return nil, errMissing("hashes")
	}
	// A multi-key chain takes a key per hash (UTXO inputs, SOL's signers in
	// account order); the others sign with the wallet of hashes[0] alone.
	hashes := tx.Hashes[:1]
	if c.Info().MultiKey {
		hashes = tx.Hashes
	}
	keys := make([]string, 0, len(hashes))
	for i, id := range hashes {
		k, err := r.key(ctx, c, id, tx.Index, false)
		if err != nil {
			return nil, fmt.Errorf("hashes[%d]: %w", i, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func (r *Resolver) key(ctx context.Context, c chain.Chain, id string, index *uint32, needMnemonic bool) (string, error) {
	w, err := r.keys.Wallet(ctx, id)
	if err != nil {
		return "", fmt.Errorf("wallet %s: %w", id, err)
	}
	code := c.Info().Code
	if !strings.EqualFold(w.Chain, code) {
		return "", fmt.Errorf("%w: wallet %s is a %s wallet, transaction is %s", ErrWalletMismatch, id, w.Chain, code)
	}
	if w.Testnet != r.testnet {
		return "", fmt.Errorf("%w: wallet %s is a %s wallet, signer runs on %s", ErrWalletMismatch, id, chain.NetworkName(w.Testnet), chain.NetworkName(r.testnet))
	}
	switch {
	case w.Mnemonic != "":
		if index == nil {
			return "", fmt.Errorf("wallet %s: %w", id, ErrNoIndex)
		}
		d, ok := c.(chain.Deriver)
		if !ok {
			return "", fmt.Errorf("%s cannot derive keys: %w", code, errors.ErrUnsupported)
		}
		seed, err := r.seed(id, w.Mnemonic)
		if err != nil {
			return "", fmt.Errorf("wallet %s: %w", id, err)
		}
		k, err := d.PrivateKey(seed, *index, w.Testnet)
		if err != nil {
			return "", fmt.Errorf("wallet %s index %d: %w", id, *index, err)
		}
		return k, nil
	case w.PrivateKey != "":
		if needMnemonic {
			return "", fmt.Errorf("%w: wallet %s holds a private key, signatures[] needs a mnemonic wallet", ErrWalletMismatch, id)
		}
		return w.PrivateKey, nil
	default:
		return "", fmt.Errorf("wallet %s: holds no key", id)
	}
}

func (r *Resolver) seed(id, mnemonic string) ([]byte, error) {
	r.mu.Lock()
	e, ok := r.seeds[id]
	if !ok {
		e = &seedEntry{}
		r.seeds[id] = e
	}
	r.mu.Unlock()
	e.once.Do(func() { e.seed, e.err = chain.Seed(mnemonic) })
	return e.seed, e.err
}
