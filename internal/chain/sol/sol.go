// Package sol implements Solana (SOL): ed25519 keys derived by SLIP-10 at Tatum's path.
package sol

import "github.com/custoskms/custos/internal/chain"

// Chain is the SOL chain.
type Chain struct{ info chain.Info }

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// SOL is the registered chain value.
var SOL = &Chain{info: chain.Info{Code: "SOL", Slug: "solana", Kind: chain.MnemonicWallet}}
