// Package vet implements VeChain Thor (VET): secp256k1 keys, blake2b transaction hashing.
package vet

import "github.com/custoskms/custos/internal/chain"

// Chain is the VET chain.
type Chain struct{ info chain.Info }

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// VET is the registered chain value.
var VET = &Chain{info: chain.Info{Code: "VET", Slug: "vet", Kind: chain.MnemonicWallet}}
