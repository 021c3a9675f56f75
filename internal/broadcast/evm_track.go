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
	if o, found, err := c.mined(ctx, h); err != nil || found {
		return o, err
	}
	if _, _, err := c.Client.TransactionByHash(ctx, h); err == nil {
		return Outcome{Progress: Pending}, nil
	} else if !errors.Is(err, ethereum.NotFound) {
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
		if o, found, err := c.mined(ctx, h); err != nil || found {
			return o, err
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

// mined reads h's receipt; found is false when the node has none.
func (c *EVMClient) mined(ctx context.Context, h common.Hash) (Outcome, bool, error) {
	r, err := c.Client.TransactionReceipt(ctx, h)
	if errors.Is(err, ethereum.NotFound) {
		return Outcome{}, false, nil
	}
	if err != nil {
		return Outcome{}, false, c.nodeErr(ctx, err, false)
	}
	head, err := c.Client.BlockNumber(ctx)
	if err != nil {
		return Outcome{}, false, c.nodeErr(ctx, err, false)
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
	return o, true, nil
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
