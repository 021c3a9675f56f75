// Package flow implements Flow: secp256k1 keys whose public key is Tatum's "address".
package flow

import "github.com/custoskms/custos/internal/chain"

// Chain is the FLOW chain.
type Chain struct{ info chain.Info }

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// FLOW is the registered chain value.
var FLOW = &Chain{info: chain.Info{Code: "FLOW", Slug: "flow", Kind: chain.MnemonicWallet}}
