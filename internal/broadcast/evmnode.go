package broadcast

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/url"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"
)

// The node calls that complete a Tatum-format transaction at creation
// (evm.Node) shadow ethclient's so that their errors read like Broadcast's:
// ErrUnavailable when the node could not be asked or answered garbage,
// ErrRejected when it refused the transaction itself (an estimate that
// reverts or that the sender cannot pay), and never the node URL's secrets.

// ChainID asks eth_chainId. A node's chain id does not change and
// completing a transaction checks it on every queue request: the first
// answer is kept, saving a node round trip per request.
func (c *EVMClient) ChainID(ctx context.Context) (*big.Int, error) {
	if id := c.chainID.Load(); id != nil {
		return new(big.Int).Set(id), nil
	}
	id, err := c.Client.ChainID(ctx)
	if err != nil {
		return nil, c.nodeErr(ctx, err, false)
	}
	c.chainID.Store(new(big.Int).Set(id))
	return id, nil
}

// PendingNonceAt asks eth_getTransactionCount at the "pending" block.
func (c *EVMClient) PendingNonceAt(ctx context.Context, account common.Address) (uint64, error) {
	n, err := c.Client.PendingNonceAt(ctx, account)
	return n, c.nodeErr(ctx, err, false)
}

// EstimateGas asks eth_estimateGas. A JSON-RPC error answer is the node
// refusing to execute the transaction, which no retry changes.
func (c *EVMClient) EstimateGas(ctx context.Context, msg ethereum.CallMsg) (uint64, error) {
	g, err := c.Client.EstimateGas(ctx, msg)
	return g, c.nodeErr(ctx, err, true)
}

// SuggestGasPrice asks eth_gasPrice.
func (c *EVMClient) SuggestGasPrice(ctx context.Context) (*big.Int, error) {
	p, err := c.Client.SuggestGasPrice(ctx)
	return p, c.nodeErr(ctx, err, false)
}

// nodeErr classifies the error of one JSON-RPC call (evm.Complete names the
// method). txRefusal marks calls whose JSON-RPC errors are about the
// transaction rather than the node.
func (c *EVMClient) nodeErr(ctx context.Context, err error, txRefusal bool) error {
	if err == nil {
		return nil
	}
	var rpcErr rpc.Error
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	case txRefusal && errors.As(err, &rpcErr):
		return fmt.Errorf("%w: %s", ErrRejected, redactIn(rpcErr.Error(), c.url))
	}
	return fmt.Errorf("%w: %s", ErrUnavailable, c.transportText(err))
}

// transportText describes a failed call without the node URL's credentials:
// net/http quotes the request URL with its password masked but its query
// (where API keys often sit) intact, so the URL is replaced as a whole.
func (c *EVMClient) transportText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " " + RedactURL(c.url) + ": " + redactIn(ue.Err.Error(), c.url)
	}
	return redactIn(err.Error(), c.url)
}

// CallContract asks eth_call at the latest block (block nil). A JSON-RPC
// error answer is the contract refusing the call (a revert, no such
// method), which no retry changes.
func (c *EVMClient) CallContract(ctx context.Context, msg ethereum.CallMsg, block *big.Int) ([]byte, error) {
	out, err := c.Client.CallContract(ctx, msg, block)
	return out, c.nodeErr(ctx, err, true)
}
