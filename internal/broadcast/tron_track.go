package broadcast

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/custoskms/custos/internal/chain/tron"
)

var _ Tracker = (*TronClient)(nil)

// Lookup implements Tracker with POST /wallet/gettransactioninfobyid, which
// answers {} until the transaction is in a block. In one: a receipt.result
// other than SUCCESS (REVERT, OUT_OF_ENERGY: a contract call that failed),
// or result FAILED, is Mined and Failed; a plain transfer's receipt has no
// result and succeeded. fee is what was burnt in sun; the confirmations
// count from the node's now block. A TRON transaction has no sequence: one
// not in a block is Expired once its expiration is at or before the now
// block's time (asked again first, as it may have just been included),
// else Unknown: the node's pool is not asked, so it is left to be included
// or to expire.
func (c *TronClient) Lookup(ctx context.Context, txID, txData string) (_ Outcome, err error) {
	defer scrub(&err, c.node.raw)
	if b, err := hex.DecodeString(txID); err != nil || len(b) != 32 {
		return Outcome{}, fmt.Errorf("%w: %q is not a transaction id", ErrRejected, txID)
	}
	o, found, err := c.txInfo(ctx, txID)
	if err != nil || found || strings.TrimSpace(txData) == "" {
		return o, err
	}
	expired, err := tron.TRON.Expired(ctx, c, txData)
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return Outcome{}, err
		}
		return Outcome{Progress: Unknown}, nil // the stored bytes do not tell their expiration
	}
	if !expired {
		return Outcome{Progress: Unknown}, nil
	}
	if o, found, err := c.txInfo(ctx, txID); err != nil || found {
		return o, err
	}
	return Outcome{Progress: Expired, Error: "expired before it was included in a block"}, nil
}

// txInfo asks gettransactioninfobyid; found is false on {}.
func (c *TronClient) txInfo(ctx context.Context, txID string) (Outcome, bool, error) {
	var a struct {
		ID          string `json:"id"`
		Fee         *int64 `json:"fee"`
		BlockNumber *int64 `json:"blockNumber"`
		Result      string `json:"result"`
		ResMessage  string `json:"resMessage"`
		Receipt     struct {
			Result string `json:"result"`
		} `json:"receipt"`
	}
	if err := c.node.postJSON(ctx, "wallet/gettransactioninfobyid", map[string]string{"value": txID}, &a); err != nil {
		return Outcome{}, false, err
	}
	if a.ID == "" && a.BlockNumber == nil {
		return Outcome{}, false, nil
	}
	if !strings.EqualFold(a.ID, txID) || a.BlockNumber == nil || *a.BlockNumber <= 0 || (a.Fee != nil && *a.Fee < 0) {
		return Outcome{}, false, fmt.Errorf("%w: gettransactioninfobyid answered no id %s with a blockNumber", ErrUnavailable, txID)
	}
	head, err := c.NowBlock(ctx)
	if err != nil {
		return Outcome{}, false, err
	}
	o := Outcome{Progress: Mined, BlockNumber: uint64(*a.BlockNumber), Fee: "0"}
	if head.Number >= *a.BlockNumber {
		o.Confirmations = uint64(head.Number-*a.BlockNumber) + 1
	}
	if a.Fee != nil {
		o.Fee = fmt.Sprint(*a.Fee)
	}
	failure := a.Receipt.Result
	if failure == "SUCCESS" {
		failure = ""
	}
	if a.Result == "FAILED" && failure == "" {
		failure = "FAILED"
	}
	if failure != "" {
		o.Failed = true
		o.Error = snippet([]byte(failure))
		if m := tronMessage(a.ResMessage); m != "" {
			o.Error += ": " + snippet([]byte(m))
		}
	}
	return o, true, nil
}
