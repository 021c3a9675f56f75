// Package utxo implements the Bitcoin-family chains: BTC, LTC, DOGE and BCH. They
// share btcd's transaction model and scripts and differ in network parameters,
// address encodings and (BCH) the FORKID signature hash.
package utxo

import "github.com/custoskms/custos/internal/chain"

// Chain is one UTXO chain's parameters.
type Chain struct {
	info chain.Info
	// CoinType is the BIP-44 coin type of Tatum's mainnet path m/44'/CoinType'/0'/0.
	CoinType uint32
}

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

func newChain(code, slug string, coin uint32) *Chain {
	return &Chain{info: chain.Info{Code: code, Slug: slug, Kind: chain.MnemonicWallet}, CoinType: coin}
}

// The four UTXO chains.
var (
	BTC  = newChain("BTC", "bitcoin", 0)
	LTC  = newChain("LTC", "litecoin", 2)
	DOGE = newChain("DOGE", "dogecoin", 3)
	BCH  = newChain("BCH", "bcash", 145)
)

// All lists the UTXO chains in registry order.
var All = []*Chain{BTC, LTC, DOGE, BCH}
