// Package tron implements TRON: secp256k1 keys with base58check T… addresses.
package tron

import "github.com/custoskms/custos/internal/chain"

// Chain is the TRON chain.
type Chain struct{ info chain.Info }

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// TRON is the registered chain value.
var TRON = &Chain{info: chain.Info{Code: "TRON", Slug: "tron", Kind: chain.MnemonicWallet}}
