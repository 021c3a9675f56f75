package evm

import (
	"context"
	"fmt"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Completer = (*Chain)(nil)

// MissingFields lists, by their Tatum JSON names, the fields a queued
// transaction leaves for a node to fill (nil when it is complete; a native
// transaction always is). The server asks it at creation without knowing the
// chain family.
func (c *Chain) MissingFields(serialized string) ([]string, error) {
	t, err := c.ParseTx(serialized)
	if err != nil {
		return nil, err
	}
	return t.Missing(), nil
}

// CompleteFromNode is Complete for a caller that holds the chain's node as a
// chain-agnostic client (the server's broadcast client for the network): node
// must answer Node's methods. The sender whose nonce is fetched is the `from`
// of the Tatum JSON; without one a missing nonce is an error naming it. extra
// are chain ids accepted beyond the public ones, as in CompleteRequest.
func (c *Chain) CompleteFromNode(ctx context.Context, node any, serialized string, testnet bool, extra ...uint64) (string, error) {
	n, ok := node.(Node)
	if !ok {
		return "", fmt.Errorf("the %s node client cannot complete transactions (no eth_chainId, eth_getTransactionCount, eth_estimateGas, eth_gasPrice)", c.info.Code)
	}
	return c.Complete(ctx, n, CompleteRequest{Serialized: serialized, Testnet: testnet, ExtraChainIDs: extra})
}
