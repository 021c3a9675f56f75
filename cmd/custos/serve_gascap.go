package main

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/config"
)

// gasCapFlags collects --max-gas-price CODE=WEI values.
type gasCapFlags []string

func (f *gasCapFlags) add(b *config.Binder) {
	config.StringArray(b, (*[]string)(f), config.Setting[[]string]{Flag: "max-gas-price",
		Help: "highest EVM gas price a node may fill into a queued transaction, CODE=WEI or CODE=Ngwei (repeatable), e.g. ETH=200gwei"})
}

// ceilings returns the caps by chain code.
func (f gasCapFlags) ceilings() (map[string]*big.Int, error) {
	out := map[string]*big.Int{}
	for _, v := range f {
		code, amount, ok := strings.Cut(v, "=")
		wei, gwei := strings.CutSuffix(strings.TrimSpace(amount), "gwei")
		n, okN := new(big.Int).SetString(wei, 10)
		if !ok || !okN || n.Sign() <= 0 {
			return nil, fmt.Errorf("--max-gas-price %q: want CODE=WEI or CODE=Ngwei, e.g. ETH=200gwei", v)
		}
		if gwei {
			n.Mul(n, big.NewInt(1e9))
		}
		c, err := chains.Lookup(strings.TrimSpace(code))
		if err != nil {
			return nil, fmt.Errorf("--max-gas-price %q: %w", v, err)
		}
		if _, ok := c.(*evm.Chain); !ok {
			return nil, fmt.Errorf("--max-gas-price %q: %s has no gas price", v, c.Info().Code)
		}
		out[c.Info().Code] = n
	}
	return out, nil
}
