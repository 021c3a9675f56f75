package broadcast

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

var _ Tracker = (*EVMClient)(nil)

// Lookup implements Tracker: the receipt when mined (status, block, gas used
// × effective gas price as the fee) and the head for the confirmations;
// else whether the node's pool holds it; else, from the signed bytes,
// whether its nonce was taken (the sender's mined count moved past it) or
// is still free (the pending count has not reached it).
func (c *EVMClient) Lookup(ctx context.Context, txID, txData string) (_ Outcome, err error) {
	defer scrub(&err, c.url)
	h := common.HexToHash(txID)
	o, found, indexing, err := c.mined(ctx, h)
	if err != nil || found {
		return o, err
	}
	_, _, err = c.Client.TransactionByHash(ctx, h)
	switch {
	case err == nil:
		return Outcome{Progress: Pending}, nil
	case stillIndexing(err):
		indexing = true
	case !errors.Is(err, ethereum.NotFound):
		return Outcome{}, c.nodeErr(ctx, err, false)
	}
	tx, from, ok := signedSender(txData)
	if !ok {
		return Outcome{Progress: Unknown}, nil
	}
	minedCount, err := c.Client.NonceAt(ctx, from, nil)
	if err != nil {
		return Outcome{}, c.nodeErr(ctx, err, false)
	}
	if minedCount > tx.Nonce() {
		// Mined between the two look-ups, or taken by another transaction.
		o, found, stillIndexing, err := c.mined(ctx, h)
		if err != nil || found {
			return o, err
		}
		if indexing || stillIndexing {
			return Outcome{Progress: Unknown}, nil // its receipt may be among those not indexed yet
		}
		return Outcome{Progress: Dropped, Error: fmt.Sprintf("nonce %d of %s was taken by another transaction", tx.Nonce(), from.Hex())}, nil
	}
	pendingCount, err := c.PendingNonceAt(ctx, from)
	if err != nil {
		return Outcome{}, err
	}
	if pendingCount <= tx.Nonce() {
		return Outcome{Progress: Missing}, nil
	}
	// Another pooled transaction holds the nonce: whichever is mined decides.
	return Outcome{Progress: Unknown}, nil
}

// mined reads h's receipt; found is false when the node has none, and
// indexing tells that the node said so while its transaction index is still
// being built (geth after a start), so that its answer proves nothing.
func (c *EVMClient) mined(ctx context.Context, h common.Hash) (_ Outcome, found, indexing bool, _ error) {
	r, err := c.Client.TransactionReceipt(ctx, h)
	if errors.Is(err, ethereum.NotFound) {
		return Outcome{}, false, false, nil
	}
	if stillIndexing(err) {
		return Outcome{}, false, true, nil
	}
	if err != nil {
		return Outcome{}, false, false, c.nodeErr(ctx, err, false)
	}
	head, err := c.Client.BlockNumber(ctx)
	if err != nil {
		return Outcome{}, false, false, c.nodeErr(ctx, err, false)
	}
	o := Outcome{Progress: Mined}
	if r.BlockNumber != nil {
		o.BlockNumber = r.BlockNumber.Uint64()
		if head >= o.BlockNumber {
			o.Confirmations = head - o.BlockNumber + 1
		}
	}
	if r.EffectiveGasPrice != nil {
		o.Fee = new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice).String()
	}
	if r.Status == types.ReceiptStatusFailed {
		o.Failed = true
		o.Error = fmt.Sprintf("receipt status 0: execution failed (gas used %d)", r.GasUsed)
	}
	return o, true, false, nil
}

// signedSender decodes a signed EVM transaction and recovers its sender.
func signedSender(txData string) (*types.Transaction, common.Address, bool) {
	raw, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(txData), "0x"))
	if err != nil || len(raw) == 0 {
		return nil, common.Address{}, false
	}
	tx := new(types.Transaction)
	if tx.UnmarshalBinary(raw) != nil {
		return nil, common.Address{}, false
	}
	from, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx)
	if err != nil {
		return nil, common.Address{}, false
	}
	return tx, from, true
}

// stillIndexing matches geth's answer to a look-up by hash while its
// transaction index is being built: "not found" that may be wrong.
func stillIndexing(err error) bool {
	return err != nil && strings.Contains(err.Error(), "indexing is in progress")
}
