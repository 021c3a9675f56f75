package evm

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/chain"
)

// Node is the part of an EVM node Complete asks (eth_chainId,
// eth_getTransactionCount "pending", eth_estimateGas, eth_gasPrice). The
// method set is go-ethereum's ethclient.Client's, so that client, the server's
// node client and the simulated backend all fit.
type Node interface {
	ChainID(ctx context.Context) (*big.Int, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	EstimateGas(ctx context.Context, msg ethereum.CallMsg) (uint64, error)
	SuggestGasPrice(ctx context.Context) (*big.Int, error)
}

// CompleteRequest is a Tatum-format transaction to complete at creation.
type CompleteRequest struct {
	Serialized string
	// From is the sender's address when the caller knows it; a `from` address in
	// the JSON is used otherwise. It is needed only to fetch a missing nonce.
	From    string
	Testnet bool
	// ExtraChainIDs are accepted beyond the chain's public ids (a dev chain).
	ExtraChainIDs []uint64
}

// Complete fills the nonce, gas, gas price and chain id a Tatum-format
// transaction leaves out, from the chain's node, and returns the completed
// serializedTransaction. Fields given are kept as they are (nonce 0 included),
// a complete or native transaction is returned unchanged, and a node on another
// network than the transaction's is refused (ErrWrongNetwork).
func (c *Chain) Complete(ctx context.Context, node Node, req CompleteRequest) (string, error) {
	t, err := c.ParseTx(req.Serialized)
	if err != nil {
		return "", err
	}
	missing := t.Missing()
	if len(missing) == 0 {
		return req.Serialized, nil
	}
	if t.Type != TypeLegacy && t.Type != TypeAccessList && (t.GasFeeCap == nil || t.GasTipCap == nil) {
		return "", fmt.Errorf("%w: %w: give both maxFeePerGas and maxPriorityFeePerGas, or gasPrice", chain.ErrInvalidTx, ErrIncompleteTx)
	}
	raw, err := decodeTatum(req.Serialized)
	if err != nil {
		return "", err
	}
	set := func(k string, v any) {
		b, _ := json.Marshal(v)
		raw[k] = b
	}

	nodeID, err := node.ChainID(ctx)
	if err != nil {
		return "", fmt.Errorf("node eth_chainId: %w", err)
	}
	if t.ChainID == nil {
		if err := c.CheckChainID(nodeID, req.Testnet, req.ExtraChainIDs...); err != nil {
			return "", fmt.Errorf("node: %w", err)
		}
		t.ChainID = nodeID
		set("chainId", nodeID.Uint64())
	} else if t.ChainID.Cmp(nodeID) != 0 {
		return "", fmt.Errorf("%w: the node serves chain id %s, the transaction is for %s", chain.ErrWrongNetwork, nodeID, t.ChainID)
	}

	from := t.From
	if req.From != "" {
		a, err := c.ParseAddress(req.From)
		if err != nil {
			return "", fmt.Errorf("from: %w", err)
		}
		addr := common.Address(a)
		from = &addr
	}
	if t.Nonce == nil {
		if from == nil {
			return "", fmt.Errorf("%w: %w: nonce is missing and the sender is unknown: give nonce, or from", chain.ErrInvalidTx, ErrIncompleteTx)
		}
		n, err := node.PendingNonceAt(ctx, *from)
		if err != nil {
			return "", fmt.Errorf("node eth_getTransactionCount: %w", err)
		}
		set("nonce", n)
	}
	// The gas price and the estimate do not depend on each other: asked at
	// once, they cost one node round trip rather than two on every queue
	// request that leaves both out.
	var (
		wg               sync.WaitGroup
		price            *big.Int
		gas              uint64
		priceErr, gasErr error
	)
	if t.GasPrice == nil && (t.Type == TypeLegacy || t.Type == TypeAccessList) {
		wg.Go(func() { price, priceErr = node.SuggestGasPrice(ctx) })
	}
	if t.Gas == nil {
		msg := ethereum.CallMsg{To: t.To, Value: t.Value, Data: t.Data, AccessList: t.AccessList}
		if from != nil {
			msg.From = *from
		}
		wg.Go(func() { gas, gasErr = node.EstimateGas(ctx, msg) })
	}
	wg.Wait()
	if priceErr != nil {
		return "", fmt.Errorf("node eth_gasPrice: %w", priceErr)
	}
	if gasErr != nil {
		return "", fmt.Errorf("node eth_estimateGas: %w", gasErr)
	}
	if price != nil {
		set("gasPrice", price.String())
	}
	if t.Gas == nil {
		set("gas", gas)
	}
	return encodeTatum(raw)
}
