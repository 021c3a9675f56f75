// Package remotekey names the keys Custos signs with but does not hold (a
// cloud KMS key; an HSM object would be next) and opens them as
// chain.DigestSigner. A Ref is what the wallet store records in place of a
// private key: where the key is, never a secret. Each backend lives in its own
// package (awskms) and has one case in Open.
package remotekey

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/remotekey/awskms"
)

// AWSKMS is the backend of an AWS KMS key (package awskms).
const AWSKMS = "aws-kms"

// Ref names a key held outside Custos.
type Ref struct {
	// Backend is where the key lives: AWSKMS.
	Backend string `json:"backend"`
	// KeyID is the key's id in its backend (an AWS KMS key id, ARN or alias).
	KeyID string `json:"keyId"`
	// Region and Endpoint say where to reach it; empty takes the backend's
	// default.
	Region   string `json:"region,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	// PublicKey is the key's public key (compressed, hex) as read when it
	// was registered. A key that later answers with another one (an alias
	// moved to another key) signs nothing: the addresses the wallet gave out
	// would not be its.
	PublicKey string `json:"publicKey"`
}

// ErrUnknownBackend is a Ref whose backend this build does not know.
var ErrUnknownBackend = errors.New("unknown key backend")

// ErrKeyChanged is a key that answers with another public key than the one
// recorded when it was registered.
var ErrKeyChanged = errors.New("the key's public key is not the one registered")

// Open returns the key ref names. It makes no call to the backend; the
// public key is checked against ref.PublicKey at its first use.
func Open(ctx context.Context, ref Ref) (chain.DigestSigner, error) {
	want, err := hex.DecodeString(ref.PublicKey)
	if err != nil || len(want) != btcec.PubKeyBytesLenCompressed {
		return nil, fmt.Errorf("key %s: the recorded public key is not a compressed key", ref.KeyID)
	}
	k, err := open(ctx, ref)
	if err != nil {
		return nil, err
	}
	return pinned{DigestSigner: k, want: want, id: ref.KeyID}, nil
}

// Register reads the public key of the key ref names and returns ref with
// it recorded, and the key: what the wallet store keeps for a new wallet.
func Register(ctx context.Context, ref Ref) (Ref, *btcec.PublicKey, error) {
	k, err := open(ctx, ref)
	if err != nil {
		return Ref{}, nil, err
	}
	pub, err := k.PublicKey(ctx)
	if err != nil {
		return Ref{}, nil, err
	}
	ref.PublicKey = hex.EncodeToString(pub.SerializeCompressed())
	return ref, pub, nil
}

// open is the backend's key, its public key not checked.
func open(ctx context.Context, ref Ref) (chain.DigestSigner, error) {
	switch ref.Backend {
	case AWSKMS:
		return awskms.New(ctx, awskms.Config{KeyID: ref.KeyID, Region: ref.Region, Endpoint: ref.Endpoint})
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownBackend, ref.Backend)
	}
}

// pinned is a key whose public key must be the one recorded.
type pinned struct {
	chain.DigestSigner
	want []byte
	id   string
}

func (p pinned) PublicKey(ctx context.Context) (*btcec.PublicKey, error) {
	pub, err := p.DigestSigner.PublicKey(ctx)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(pub.SerializeCompressed(), p.want) {
		return nil, fmt.Errorf("key %s: %w", p.id, ErrKeyChanged)
	}
	return pub, nil
}
