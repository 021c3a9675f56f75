// Package xrp implements the XRP Ledger (XRP): secp256k1 family-seed keypairs.
package xrp

import "github.com/custoskms/custos/internal/chain"

// Chain is the XRP chain.
type Chain struct{ info chain.Info }

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// XRP is the registered chain value.
var XRP = &Chain{info: chain.Info{Code: "XRP", Slug: "xrp", Kind: chain.KeypairWallet}}
