// Package xlm implements Stellar (XLM): ed25519 keypairs shown as G…/S… strkeys.
package xlm

import "github.com/custoskms/custos/internal/chain"

// Chain is the XLM chain.
type Chain struct{ info chain.Info }

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// XLM is the registered chain value.
var XLM = &Chain{info: chain.Info{Code: "XLM", Slug: "xlm", Kind: chain.KeypairWallet}}
