// Package egld implements MultiversX (EGLD): ed25519 keys derived by SLIP-10, erd1… addresses.
package egld

import "github.com/custoskms/custos/internal/chain"

// Chain is the EGLD chain.
type Chain struct{ info chain.Info }

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// EGLD is the registered chain value.
var EGLD = &Chain{info: chain.Info{Code: "EGLD", Slug: "egld", Kind: chain.MnemonicWallet}}
