package evm

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.FeeEstimator = (*Chain)(nil)

// Caller is a node that runs read-only contract calls (eth_call), the
// method of go-ethereum's ethclient.Client: the fee estimate reads a
// token's decimals() with it.
type Caller interface {
	CallContract(ctx context.Context, msg ethereum.CallMsg, block *big.Int) ([]byte, error)
}

// estimateRequest is Tatum's EstimateFee body as the EVM chains read it.
type estimateRequest struct {
	Chain           string  `json:"chain"`
	Type            *string `json:"type"`
	Sender          *string `json:"sender"`
	Recipient       *string `json:"recipient"`
	ContractAddress *string `json:"contractAddress"`
	Amount          *string `json:"amount"`
}

// Estimate is the answer of POST /v3/blockchain/estimate for an EVM chain,
// Tatum's FeeETH: gasPrice in Gwei, both JSON numbers.
type Estimate struct {
	GasLimit uint64      `json:"gasLimit"`
	GasPrice json.Number `json:"gasPrice"`
}

// decimalsCall is the ERC-20 call decimals().
var decimalsCall = []byte{0x31, 0x3c, 0xe5, 0x67}

// EstimateFee answers Tatum's POST /v3/blockchain/estimate for the chain
// from its node: TRANSFER_ERC20 (sender, recipient, contractAddress and
// amount in the token's units, whose decimals() the node is asked) and,
// beyond Tatum's enum for these chains, TRANSFER (sender, recipient, amount
// in the coin). gasLimit is eth_estimateGas's answer, gasPrice eth_gasPrice
// in Gwei (held to the server's ceiling when one is set). Tatum's other
// types (deployments, NFTs, auctions) estimate transactions this server
// does not build: they are a 400.
func (c *Chain) EstimateFee(ctx context.Context, node any, body []byte, _ bool) (any, error) {
	var req estimateRequest
	if err := chain.DecodeRequest(body, &req); err != nil {
		return nil, err
	}
	var bad chain.FieldErrors
	fail := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	typ := ""
	switch {
	case req.Type == nil:
		fail("type: is required")
	case *req.Type == "TRANSFER" || *req.Type == "TRANSFER_ERC20":
		typ = *req.Type
	default:
		fail("type: must be TRANSFER_ERC20 or TRANSFER for %s, got %.40q", c.info.Code, *req.Type)
	}
	from := c.addressField(req.Sender, "sender", true, fail)
	to := c.addressField(req.Recipient, "recipient", true, fail)
	var contract *common.Address
	switch {
	case typ == "TRANSFER_ERC20":
		contract = c.addressField(req.ContractAddress, "contractAddress", true, fail)
	case req.ContractAddress != nil:
		fail("contractAddress: is only for TRANSFER_ERC20")
	}
	if req.Amount == nil {
		fail("amount: is required")
	}
	if len(bad) > 0 {
		return nil, bad
	}
	n, ok := node.(Node)
	if node == nil || !ok {
		return nil, chain.FieldErrors{fmt.Sprintf("chain: no %s node is configured to estimate from", c.info.Code)}
	}
	decimals := 18
	if contract != nil {
		d, err := tokenDecimals(ctx, node, *contract)
		if err != nil {
			return nil, err
		}
		decimals = d
	}
	amount, err := chain.ParseAmount("amount", *req.Amount, decimals)
	if err != nil {
		return nil, err
	}
	msg := ethereum.CallMsg{From: *from, To: to, Value: amount}
	if contract != nil {
		msg.To, msg.Value, msg.Data = contract, new(big.Int), transferCall(*to, amount)
	}
	gas, err := n.EstimateGas(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("node eth_estimateGas: %w", err)
	}
	price, err := n.SuggestGasPrice(ctx)
	if err != nil {
		return nil, fmt.Errorf("node eth_gasPrice: %w", err)
	}
	return Estimate{GasLimit: gas, GasPrice: json.Number(gwei(price))}, nil
}

// tokenDecimals asks the contract's decimals() through node's eth_call.
func tokenDecimals(ctx context.Context, node any, contract common.Address) (int, error) {
	cl, ok := node.(Caller)
	if !ok {
		return 0, fmt.Errorf("the node client cannot read a token's decimals (no eth_call)")
	}
	out, err := cl.CallContract(ctx, ethereum.CallMsg{To: &contract, Data: decimalsCall}, nil)
	if err != nil {
		return 0, fmt.Errorf("node eth_call decimals(): %w", err)
	}
	d := new(big.Int).SetBytes(out)
	if len(out) != 32 || d.Cmp(big.NewInt(77)) > 0 {
		return 0, chain.FieldErrors{fmt.Sprintf("contractAddress: %s does not answer decimals() as an ERC-20 token", contract.Hex())}
	}
	return int(d.Int64()), nil
}

// gwei writes wei as an exact decimal number of Gwei ("1.5", "20").
func gwei(wei *big.Int) string {
	q, r := new(big.Int).QuoRem(wei, big.NewInt(1e9), new(big.Int))
	if r.Sign() == 0 {
		return q.String()
	}
	frac := strings.TrimRight(fmt.Sprintf("%09d", r.Int64()), "0")
	return q.String() + "." + frac
}
