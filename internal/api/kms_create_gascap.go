package api

import (
	"context"
	"fmt"
	"math/big"

	ethereum "github.com/ethereum/go-ethereum"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/evm"
)

// A gas price the server fills from a node at POST /v3/kms is a third
// party's figure that the application never saw: Config.MaxGasPrice caps
// it per chain, and a node asking more gets the transaction refused (400)
// instead of queued with an inflated fee.

// gasCapped is an EVM node whose gas price answers are held to max.
type gasCapped struct {
	broadcast.Client
	evm.Node
	code string
	max  *big.Int
}

func (n gasCapped) SuggestGasPrice(ctx context.Context) (*big.Int, error) {
	p, err := n.Node.SuggestGasPrice(ctx)
	if err == nil && p.Cmp(n.max) > 0 {
		return nil, fmt.Errorf("%w: the %s node's gas price %s wei is above the server's ceiling of %s wei (--max-gas-price)",
			chain.ErrInvalidTx, n.code, p, n.max)
	}
	return p, err
}

// CallContract passes eth_call through (the fee estimate reads a token's
// decimals with it): the ceiling is about gas prices only.
func (n gasCapped) CallContract(ctx context.Context, msg ethereum.CallMsg, block *big.Int) ([]byte, error) {
	c, ok := n.Client.(evm.Caller)
	if !ok {
		return nil, fmt.Errorf("the %s node client has no eth_call", n.code)
	}
	return c.CallContract(ctx, msg, block)
}

// capGas wraps node when a gas price ceiling is configured for code.
func (s *Server) capGas(code string, node broadcast.Client) broadcast.Client {
	max := s.maxGasPrice[code]
	en, ok := node.(evm.Node)
	if max == nil || !ok {
		return node
	}
	return gasCapped{Client: node, Node: en, code: code, max: max}
}
