package broadcast

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"

	"github.com/custoskms/custos/internal/chain/vet"
)

var _ Tracker = (*VeChainClient)(nil)

// Lookup implements Tracker with GET /transactions/{id}/receipt, which
// answers null until the transaction is in a block: then Mined in
// meta.blockNumber, counted from GET /blocks/best, with paid (VTHO in wei)
// as the fee; reverted is Failed (the fee was paid). Without a receipt,
// GET /transactions/{id}?pending=true tells whether the node's pool holds
// it (Pending). A transaction the node does not know is Dropped once the
// best block passed its blockRef + expiration (its receipt asked once more
// first), else Missing: the same bytes are still valid.
func (c *VeChainClient) Lookup(ctx context.Context, txID, txData string) (_ Outcome, err error) {
	defer scrub(&err, c.node.raw)
	if b, err := hex.DecodeString(strings.TrimPrefix(txID, "0x")); err != nil || len(b) != 32 {
		return Outcome{}, fmt.Errorf("%w: %q is not a transaction id", ErrRejected, txID)
	}
	o, found, err := c.receipt(ctx, txID)
	if err != nil || found {
		return o, err
	}
	pooled, err := c.pooled(ctx, txID)
	if err != nil || pooled {
		return Outcome{Progress: Pending}, err
	}
	raw, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(txData), "0x"))
	if err != nil || len(raw) == 0 {
		return Outcome{Progress: Unknown}, nil
	}
	expired, err := vet.VET.SignedExpired(ctx, c, raw)
	switch {
	case err != nil && !errors.Is(err, ErrUnavailable):
		return Outcome{Progress: Unknown}, nil // the stored bytes do not tell their window
	case err != nil:
		return Outcome{}, err
	case !expired:
		return Outcome{Progress: Missing}, nil
	}
	if o, found, err := c.receipt(ctx, txID); err != nil || found {
		return o, err
	}
	return Outcome{Progress: Dropped, Error: "expired before it was included in a block"}, nil
}

// receipt asks GET /transactions/{id}/receipt; found is false on null.
func (c *VeChainClient) receipt(ctx context.Context, txID string) (Outcome, bool, error) {
	var r *struct {
		Paid     string `json:"paid"`
		Reverted bool   `json:"reverted"`
		GasUsed  uint64 `json:"gasUsed"`
		Meta     *struct {
			BlockNumber *uint64 `json:"blockNumber"`
		} `json:"meta"`
	}
	path := "/transactions/" + txID + "/receipt"
	if err := c.node.getJSON(ctx, path, &r); err != nil {
		return Outcome{}, false, err
	}
	if r == nil {
		return Outcome{}, false, nil
	}
	if r.Meta == nil || r.Meta.BlockNumber == nil {
		return Outcome{}, false, fmt.Errorf("%w: GET %s: a receipt without its block", ErrUnavailable, path)
	}
	best, err := c.BestBlock(ctx)
	if err != nil {
		return Outcome{}, false, err
	}
	o := Outcome{Progress: Mined, BlockNumber: *r.Meta.BlockNumber}
	if uint64(best.Number) >= o.BlockNumber {
		o.Confirmations = uint64(best.Number) - o.BlockNumber + 1
	}
	if paid, ok := new(big.Int).SetString(strings.TrimPrefix(r.Paid, "0x"), 16); ok {
		o.Fee = paid.String()
	}
	if r.Reverted {
		o.Failed, o.Error = true, fmt.Sprintf("reverted: a clause failed (gas used %d)", r.GasUsed)
	}
	return o, true, nil
}

// pooled asks GET /transactions/{id}?pending=true, which answers the
// transaction with a null meta while it waits in the node's pool, and null
// when the node does not know it.
func (c *VeChainClient) pooled(ctx context.Context, txID string) (bool, error) {
	var tx *struct {
		ID string `json:"id"`
	}
	err := c.node.getJSONQuery(ctx, "/transactions/"+txID, url.Values{"pending": {"true"}}, &tx)
	return tx != nil, err
}
