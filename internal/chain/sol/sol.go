// Package sol implements Solana (SOL): ed25519 keys derived by SLIP-10 at Tatum's path.
package sol

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/custoskms/custos/internal/chain"
)

// Chain is the SOL chain.
type Chain struct {
	info chain.Info
	chain.HDEd25519
}

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// SOL is the registered chain value. Tatum's SOL package derives
// m/44'/501'/0'/0'/i' on both networks (not Phantom's m/44'/501'/i'/0').
var SOL = &Chain{
	info: chain.Info{Code: "SOL", Slug: "solana", Kind: chain.MnemonicKeyWallet, MultiKey: true},
	HDEd25519: chain.HDEd25519{
		MainPath:  chain.MustPath("m/44'/501'/0'/0'"),
		TestPath:  chain.MustPath("m/44'/501'/0'/0'"),
		Address:   Address,
		FormatKey: func(k ed25519.PrivateKey) string { return base58.Encode(k) },
		ParseKey:  ParseKey,
	},
}

var _ chain.Deriver = (*Chain)(nil)

// Address is the base58 public key.
func Address(pub ed25519.PublicKey) string { return base58.Encode(pub) }

// ParseKey reads a private key as Tatum stores it: base58 of the 64-byte
// secret key (seed ‖ public key). The public half must match the seed, or the
// key would sign for another account than it names.
func ParseKey(s string) (ed25519.PrivateKey, error) {
	b := base58.Decode(s)
	defer clear(b)
	if len(b) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: want base58 of a 64-byte secret key", chain.ErrInvalidKey)
	}
	k := ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
	if !bytes.Equal(k[ed25519.SeedSize:], b[ed25519.SeedSize:]) {
		clear(k)
		return nil, fmt.Errorf("%w: public half does not match the seed", chain.ErrInvalidKey)
	}
	return k, nil
}
