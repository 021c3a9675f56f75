package daemon

import (
	"context"
	"sync"
)

// SealedKeys is the Keys of a split-protected wallet store: until k holders
// have given their shares (Unseal), it has no key to hand out and every call
// fails with ErrSealed, so the daemon runs but signs nothing. After Unseal it
// is the unsealed source.
type SealedKeys struct {
	mu   sync.RWMutex
	keys Keys
}

var _ Keys = (*SealedKeys)(nil)

// Unseal installs the unsealed key source; the daemon uses it from its next
// run on.
func (k *SealedKeys) Unseal(keys Keys) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys = keys
}

func (k *SealedKeys) source() (Keys, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.keys == nil {
		return nil, ErrSealed
	}
	return k.keys, nil
}

// List implements Keys.
func (k *SealedKeys) List(ctx context.Context) ([]WalletRef, error) {
	src, err := k.source()
	if err != nil {
		return nil, err
	}
	return src.List(ctx)
}

// Wallet implements Keys.
func (k *SealedKeys) Wallet(ctx context.Context, id string) (Wallet, error) {
	src, err := k.source()
	if err != nil {
		return Wallet{}, err
	}
	return src.Wallet(ctx, id)
}

var _ Preloader = (*SealedKeys)(nil)

// Preload implements Preloader for an unsealed source that preloads, and
// returns the source itself for one that does not.
func (k *SealedKeys) Preload(ctx context.Context, ids []string) (Keys, error) {
	src, err := k.source()
	if err != nil {
		return nil, err
	}
	if p, ok := src.(Preloader); ok {
		return p.Preload(ctx, ids)
	}
	return src, nil
}
