package evmtest

import (
	"context"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/internal/chain"
)

// MemKey is a chain.DigestSigner over an in-process key that answers as a
// remote key may: with the high-s twin of its signature when HighS is set,
// and with a signature of another digest when Wrong is set.
type MemKey struct {
	priv  *btcec.PrivateKey
	HighS bool
	Wrong bool
}

var _ chain.DigestSigner = (*MemKey)(nil)

// NewMemKey returns a MemKey over a new random key.
func NewMemKey(tb testing.TB) *MemKey {
	tb.Helper()
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		tb.Fatal(err)
	}
	return &MemKey{priv: priv}
}

// PublicKey implements chain.DigestSigner.
func (k *MemKey) PublicKey(context.Context) (*btcec.PublicKey, error) { return k.priv.PubKey(), nil }

// SignDigest implements chain.DigestSigner.
func (k *MemKey) SignDigest(_ context.Context, digest []byte) (*big.Int, *big.Int, error) {
	if k.Wrong {
		digest = crypto.Keccak256(digest)
	}
	key, err := crypto.ToECDSA(k.priv.Serialize())
	if err != nil {
		return nil, nil, err
	}
	sig, err := crypto.Sign(digest, key)
	if err != nil {
		return nil, nil, err
	}
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
	if k.HighS {
		s.Sub(btcec.S256().N, s)
	}
	return r, s, nil
}
