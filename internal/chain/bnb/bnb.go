// Package bnb implements BNB Beacon Chain (BNB): secp256k1 keypairs with bnb1… addresses; signing only, the chain is shut down.
package bnb

import "github.com/custoskms/custos/internal/chain"

// Chain is the BNB chain.
type Chain struct{ info chain.Info }

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// BNB is the registered chain value.
var BNB = &Chain{info: chain.Info{Code: "BNB", Slug: "bnb", Kind: chain.KeypairWallet}}
