package pending

import (
	"context"
	"errors"
	"fmt"
)

// KeyTable is a backend's access to its API key table: only the SQL dialect
// and the driver differ between backends, so the rules of KeyStore (what is
// not found, what is a duplicate, how errors read) live once in Keyring.
type KeyTable interface {
	// InsertKey stores k (its CreatedAt set by the table's clock, to the
	// millisecond) and returns it; ErrKeyExists when the secret hash is taken.
	InsertKey(ctx context.Context, k APIKey) (APIKey, error)
	// SelectKeys returns the active key with hash *byHash (none or one), or,
	// with byHash nil, every key, revoked ones included, oldest first.
	SelectKeys(ctx context.Context, byHash *[32]byte) ([]APIKey, error)
	// RevokeKey revokes the key if it is active and reports whether it was.
	RevokeKey(ctx context.Context, id string) (bool, error)
	// AddCredits increments a key's meter in the database, so that replicas
	// metering one key at once lose no credit.
	AddCredits(ctx context.Context, id string, n int64) error
}

// Keyring implements KeyStore over a backend's KeyTable; a store embeds it.
type Keyring struct{ Table KeyTable }

// CreateKey implements KeyStore.
func (s Keyring) CreateKey(ctx context.Context, name string, testnet bool, scopes Scopes, secretHash [32]byte) (APIKey, error) {
	if scopes == 0 || scopes&^AllScopes != 0 {
		return APIKey{}, fmt.Errorf("%w: %#x", ErrScope, uint8(scopes))
	}
	k, err := s.Table.InsertKey(ctx, APIKey{ID: NewID(), SecretHash: secretHash, Name: name, Testnet: testnet, Scopes: scopes})
	if errors.Is(err, ErrKeyExists) {
		return APIKey{}, ErrKeyExists
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("create api key: %w", err)
	}
	return k, nil
}

// KeyByHash implements KeyStore.
func (s Keyring) KeyByHash(ctx context.Context, secretHash [32]byte) (APIKey, error) {
	ks, err := s.Table.SelectKeys(ctx, &secretHash)
	if err != nil {
		return APIKey{}, fmt.Errorf("look up api key: %w", err)
	}
	if len(ks) == 0 {
		return APIKey{}, ErrKeyNotFound
	}
	return ks[0], nil
}

// Keys implements KeyStore.
func (s Keyring) Keys(ctx context.Context) ([]APIKey, error) {
	ks, err := s.Table.SelectKeys(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	if ks == nil {
		ks = []APIKey{}
	}
	return ks, nil
}

// RevokeKey implements KeyStore.
func (s Keyring) RevokeKey(ctx context.Context, id string) error {
	ok, err := s.Table.RevokeKey(ctx, id)
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if !ok {
		return ErrKeyNotFound
	}
	return nil
}

// AddCredits implements KeyStore.
func (s Keyring) AddCredits(ctx context.Context, id string, n int64) error {
	if err := s.Table.AddCredits(ctx, id, n); err != nil {
		return fmt.Errorf("meter credits: %w", err)
	}
	return nil
}
