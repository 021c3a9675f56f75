// Package egld implements MultiversX (EGLD): ed25519 keys derived by SLIP-10, erd1… addresses.
package egld

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"

	"github.com/custoskms/custos/internal/chain"
)

// Chain is the EGLD chain.
type Chain struct {
	info chain.Info
	chain.HDEd25519
}

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// EGLD is the registered chain value. Tatum's testnet path is its generic
// testnet path with the index hardened: m/44'/1'/0'/0'/i'.
var EGLD = &Chain{
	info: chain.Info{Code: "EGLD", Slug: "egld", Kind: chain.MnemonicWallet},
	HDEd25519: chain.HDEd25519{
		MainPath:  chain.MustPath("m/44'/508'/0'/0'"),
		TestPath:  chain.MustPath("m/44'/1'/0'/0'"),
		Address:   Address,
		FormatKey: func(k ed25519.PrivateKey) string { return hex.EncodeToString(k.Seed()) },
		ParseKey:  ParseKey,
	},
}

var _ chain.Deriver = (*Chain)(nil)

// hrp is the bech32 prefix of MultiversX addresses on every network.
const hrp = "erd"

// Address is the erd1… bech32 form of a public key.
func Address(pub ed25519.PublicKey) string { return chain.Bech32Encode(hrp, pub) }

// DecodeAddress returns the 32-byte public key of an erd1… address.
func DecodeAddress(s string) ([]byte, error) {
	return chain.Bech32Decode(s, hrp, ed25519.PublicKeySize)
}

// ParseKey reads a private key stored as Tatum does: 64 hex digits of the ed25519 seed.
func ParseKey(s string) (ed25519.PrivateKey, error) {
	if len(s) != 2*ed25519.SeedSize {
		return nil, fmt.Errorf("%w: want 64 hex digits, got %d characters", chain.ErrInvalidKey, len(s))
	}
	seed, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not hex", chain.ErrInvalidKey)
	}
	defer clear(seed)
	return ed25519.NewKeyFromSeed(seed), nil
}
