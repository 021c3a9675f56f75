package evm

import (
	"encoding/hex"
	"fmt"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Web3 = (*Chain)(nil)

// Account implements chain.Web3: the address in lower-case 0x hex, as
// Sequence names a Tatum-format transaction's sender.
func (c *Chain) Account(address string) (string, error) {
	a, err := c.ParseAddress(address)
	if err != nil {
		return "", fmt.Errorf("%w: %w", chain.ErrInvalidTx, err)
	}
	return "0x" + hex.EncodeToString(a[:]), nil
}

// web3Methods are what Tatum's SDK asks of a node before it signs (chain
// id, nonce, gas price and fee history, gas estimation, the latest block's
// base fee) and the reads a signer or an app checks a result with. Left
// out: eth_sendRawTransaction and every signing or account method (keys
// never reach a node), filters and subscriptions (state on the node),
// eth_getLogs and tracing (a block range is the node's whole history: one
// call can cost it minutes).
var web3Methods = []string{
	"eth_chainId", "net_version", "eth_blockNumber", "eth_syncing",
	"eth_gasPrice", "eth_maxPriorityFeePerGas", "eth_feeHistory", "eth_estimateGas",
	"eth_call", "eth_getBalance", "eth_getTransactionCount", "eth_getCode", "eth_getStorageAt",
	"eth_getBlockByNumber", "eth_getBlockByHash", "eth_getTransactionByHash", "eth_getTransactionReceipt",
}

// Web3Methods implements chain.Web3.
func (c *Chain) Web3Methods() []string { return append([]string(nil), web3Methods...) }
