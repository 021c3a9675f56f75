package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/remotekey"
)

// Resolver turns a pending transaction's signature IDs into private keys
// (docs/design.md §6.2): hashes name a private-key wallet, or a mnemonic
// wallet derived at the transaction's index; signatures[] name mnemonic
// wallets, each with its own index. A wallet of another chain or network is
// refused, and so is, when the Resolver is limited to some wallets
// (--wallets), a transaction naming any other.
//
// A wallet whose key is held outside the process (a KMS key) resolves to
// that key, opened through the Resolver's opener (ResolveSigning).
//
// A Resolver caches BIP-39 seeds so a period pays PBKDF2 once per mnemonic,
// also when many transactions of one wallet ask for it at once; it is safe
// for concurrent use. Call Close to wipe the cache.
type Resolver struct {
	keys    Keys
	testnet bool
	// only, when set, are the wallets it may sign with (the daemon's --wallets).
	only map[string]bool

	// open opens a key held outside the process; nil is remotekey.Open.
	open func(context.Context, remotekey.Ref) (chain.DigestSigner, error)

	mu      sync.Mutex
	seeds   map[string]*seedEntry
	remotes map[string]chain.DigestSigner
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
	return &Resolver{keys: keys, testnet: testnet, seeds: map[string]*seedEntry{}, remotes: map[string]chain.DigestSigner{}}
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
// chain's SignRequest.Keys expects. A wallet whose key is held outside the
// process is an error wrapping ErrRemoteKey: there is no key to return.
func (r *Resolver) Resolve(ctx context.Context, c chain.Chain, tx PendingTx) ([]string, error) {
	keys, remote, err := r.resolve(ctx, c, tx)
	if err != nil {
		return nil, err
	}
	if len(remote) > 0 {
		clear(keys)
		return nil, fmt.Errorf("%w: wallet %s: sign with the daemon", ErrRemoteKey, remote[0].id)
	}
	return keys, nil
}

// ResolveSigning is Resolve where keys held outside the process are
// allowed: it returns either private keys or those keys, opened, in the same
// order; a transaction naming wallets of both kinds is refused.
func (r *Resolver) ResolveSigning(ctx context.Context, c chain.Chain, tx PendingTx) ([]string, []chain.DigestSigner, error) {
	keys, remote, err := r.resolve(ctx, c, tx)
	if err != nil || len(remote) == 0 {
		return keys, nil, err
	}
	if len(keys) > 0 {
		clear(keys)
		return nil, nil, fmt.Errorf("%w: the transaction mixes wallets with keys held outside the process and others", ErrRemoteKey)
	}
	signers := make([]chain.DigestSigner, len(remote))
	for i, w := range remote {
		if signers[i], err = r.remote(ctx, w); err != nil {
			return nil, nil, fmt.Errorf("wallet %s: %w", w.id, err)
		}
	}
	return nil, signers, nil
}

// remoteWallet is a resolved wallet whose key is held outside the process.
type remoteWallet struct {
	id  string
	ref remotekey.Ref
}

// remote opens w's key once per Resolver, so its public key is read once.
func (r *Resolver) remote(ctx context.Context, w remoteWallet) (chain.DigestSigner, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := r.remotes[w.id]; ok {
		return k, nil
	}
	open := r.open
	if open == nil {
		open = remotekey.Open
	}
	k, err := open(ctx, w.ref)
	if err != nil {
		return nil, err
	}
	r.remotes[w.id] = k
	return k, nil
}

// resolve returns the private keys of tx's wallets and the wallets whose
// keys are held outside the process, each in signing order.
func (r *Resolver) resolve(ctx context.Context, c chain.Chain, tx PendingTx) ([]string, []remoteWallet, error) {
	code := c.Info().Code
	if !strings.EqualFold(tx.Chain, code) {
		return nil, nil, fmt.Errorf("%w: transaction for %s handled as %s", ErrWalletMismatch, tx.Chain, code)
	}
	if r.only != nil {
		// Every wallet the transaction names, not only those a chain signs
		// with: a transaction that names a wallet outside the set is not this
		// daemon's to sign, even if the wallet it would sign with is in it.
		for _, id := range tx.signatureIDs() {
			if !r.only[id] {
				return nil, nil, fmt.Errorf("%w: transaction names wallet %s", ErrWalletNotAllowed, id)
			}
		}
	}
	var remote []remoteWallet
	if len(tx.Signatures) > 0 {
		keys := make([]string, 0, len(tx.Signatures))
		for i, s := range tx.Signatures {
			if s.Index == nil {
				return nil, nil, fmt.Errorf("signatures[%d] (%s): %w", i, s.ID, ErrNoIndex)
			}
			k, ref, err := r.key(ctx, c, s.ID, s.Index, true)
			if err != nil {
				clear(keys)
				return nil, nil, fmt.Errorf("signatures[%d]: %w", i, err)
			}
			if ref != nil {
				remote = append(remote, remoteWallet{id: s.ID, ref: *ref})
				continue
			}
			keys = append(keys, k)
		}
		return keys, remote, nil
	}
	if len(tx.Hashes) == 0 {
		return nil, nil, errMissing("hashes")
	}
	// A multi-key chain takes a key per hash (UTXO inputs, SOL's signers in
	// account order); the others sign with the wallet of hashes[0] alone.
	hashes := tx.Hashes[:1]
	if c.Info().MultiKey {
		hashes = tx.Hashes
	}
	keys := make([]string, 0, len(hashes))
	for i, id := range hashes {
		k, ref, err := r.key(ctx, c, id, tx.Index, false)
		if err != nil {
			clear(keys)
			return nil, nil, fmt.Errorf("hashes[%d]: %w", i, err)
		}
		if ref != nil {
			remote = append(remote, remoteWallet{id: id, ref: *ref})
			continue
		}
		keys = append(keys, k)
	}
	return keys, remote, nil
}

// key returns the private key of wallet id, or, for a wallet whose key is
// held outside the process, where that key is.
func (r *Resolver) key(ctx context.Context, c chain.Chain, id string, index *uint32, needMnemonic bool) (string, *remotekey.Ref, error) {
	w, err := r.keys.Wallet(ctx, id)
	if err != nil {
		return "", nil, fmt.Errorf("wallet %s: %w", id, err)
	}
	code := c.Info().Code
	if !strings.EqualFold(w.Chain, code) {
		return "", nil, fmt.Errorf("%w: wallet %s is a %s wallet, transaction is %s", ErrWalletMismatch, id, w.Chain, code)
	}
	if w.Testnet != r.testnet {
		return "", nil, fmt.Errorf("%w: wallet %s is a %s wallet, signer runs on %s", ErrWalletMismatch, id, chain.NetworkName(w.Testnet), chain.NetworkName(r.testnet))
	}
	switch {
	case w.Mnemonic != "":
		if index == nil {
			return "", nil, fmt.Errorf("wallet %s: %w", id, ErrNoIndex)
		}
		d, ok := c.(chain.Deriver)
		if !ok {
			return "", nil, fmt.Errorf("%s cannot derive keys: %w", code, errors.ErrUnsupported)
		}
		seed, err := r.seed(id, w.Mnemonic)
		if err != nil {
			return "", nil, fmt.Errorf("wallet %s: %w", id, err)
		}
		k, err := d.PrivateKey(seed, *index, w.Testnet)
		if err != nil {
			return "", nil, fmt.Errorf("wallet %s index %d: %w", id, *index, err)
		}
		return k, nil, nil
	case w.PrivateKey != "":
		if needMnemonic {
			return "", nil, fmt.Errorf("%w: wallet %s holds a private key, signatures[] needs a mnemonic wallet", ErrWalletMismatch, id)
		}
		return w.PrivateKey, nil, nil
	case w.Remote != nil:
		if needMnemonic {
			return "", nil, fmt.Errorf("%w: wallet %s holds a remote key, signatures[] needs a mnemonic wallet", ErrWalletMismatch, id)
		}
		return "", w.Remote, nil
	default:
		return "", nil, fmt.Errorf("wallet %s: holds no key", id)
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
