// Package chains is the one table of supported chains: adding a chain means a
// package under internal/chain and one row here.
package chains

import (
	"strings"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/bnb"
	"github.com/custoskms/custos/internal/chain/egld"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/chain/flow"
	"github.com/custoskms/custos/internal/chain/sol"
	"github.com/custoskms/custos/internal/chain/tron"
	"github.com/custoskms/custos/internal/chain/utxo"
	"github.com/custoskms/custos/internal/chain/vet"
	"github.com/custoskms/custos/internal/chain/xlm"
	"github.com/custoskms/custos/internal/chain/xrp"
)

var table = []chain.Chain{
	bnb.BNB, utxo.BTC, evm.ETH, xlm.XLM, xrp.XRP, utxo.BCH, utxo.LTC, utxo.DOGE, vet.VET, evm.BSC,
	evm.MATIC, evm.CELO, flow.FLOW, tron.TRON, evm.ONE, evm.XDC, egld.EGLD, evm.KLAY, sol.SOL,
}

var (
	byCode = map[string]chain.Chain{}
	bySlug = map[string]chain.Chain{}
)

func init() {
	for _, c := range table {
		byCode[c.Info().Code] = c
		bySlug[c.Info().Slug] = c
	}
}

// All returns every chain in the order of the API's enum.
func All() []chain.Chain { return append([]chain.Chain(nil), table...) }

// Lookup finds a chain by its Tatum currency code (case-insensitive).
func Lookup(code string) (chain.Chain, error) {
	if c, ok := byCode[strings.ToUpper(code)]; ok {
		return c, nil
	}
	return nil, chain.UnknownChainError(code)
}

// BySlug finds a chain by its Tatum broadcast slug ("ethereum", "bitcoin", …).
func BySlug(slug string) (chain.Chain, error) {
	if c, ok := bySlug[slug]; ok {
		return c, nil
	}
	return nil, chain.UnknownChainError(slug)
}
