package broadcast

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"

	"github.com/custoskms/custos/internal/chain/flow"
)

var _ Tracker = (*FlowClient)(nil)

// flowExpiry is how many blocks past its reference block a Flow transaction
// can still be included (the protocol's expiry, 600 blocks).
const flowExpiry = 600

var flowTxID = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// Lookup implements Tracker with GET /v1/transaction_results/{id}: Sealed
// is final (counted as one confirmation), Executed and Finalized are in a
// block and not yet final, Pending is Pending, and Expired is Dropped; a
// non-zero status_code (execution Failure) is Failed with the node's
// error_message (its fees were paid). The block's height comes from GET
// /v1/blocks/{block_id}. The fee is not reported: it is an event's payload.
// A transaction the node does not know (404) is Dropped once the sealed
// head is 600 blocks past its reference block, else Missing: the same
// bytes can be sent again (a duplicate is a success).
func (c *FlowClient) Lookup(ctx context.Context, txID, txData string) (_ Outcome, err error) {
	defer scrub(&err, c.node.raw)
	if !flowTxID.MatchString(txID) {
		return Outcome{}, fmt.Errorf("%w: %q is not a transaction id", ErrRejected, txID)
	}
	o, found, err := c.result(ctx, txID)
	if err != nil || found {
		return o, err
	}
	tx, _, err := flow.ParseTx(txData)
	if err != nil {
		return Outcome{Progress: Unknown}, nil
	}
	ref, err := c.height(ctx, hex.EncodeToString(tx.ReferenceBlockID[:]))
	if errors.Is(err, ErrRejected) {
		return Outcome{Progress: Unknown}, nil // a reference block this node does not hold
	}
	if err != nil {
		return Outcome{}, err
	}
	sealed, err := c.height(ctx, "")
	if err != nil {
		return Outcome{}, err
	}
	if sealed < ref+flowExpiry {
		return Outcome{Progress: Missing}, nil
	}
	if o, found, err := c.result(ctx, txID); err != nil || found {
		return o, err
	}
	return Outcome{Progress: Dropped, Error: "expired: its reference block is 600 blocks below the sealed head"}, nil
}

// result asks GET /v1/transaction_results/{id}; found is false on a 404.
func (c *FlowClient) result(ctx context.Context, txID string) (Outcome, bool, error) {
	var r struct {
		BlockID      string `json:"block_id"`
		Status       string `json:"status"`
		StatusCode   int    `json:"status_code"`
		Execution    string `json:"execution"`
		ErrorMessage string `json:"error_message"`
	}
	path := "/v1/transaction_results/" + txID
	err := c.node.getJSON(ctx, path, &r)
	switch {
	case errors.Is(err, ErrRejected):
		return Outcome{}, false, nil // 404: not known to this node
	case err != nil:
		return Outcome{}, false, err
	}
	switch r.Status {
	case "Pending", "Unknown", "":
		return Outcome{Progress: Pending}, true, nil
	case "Expired":
		return Outcome{Progress: Dropped, Error: "expired before it was included in a block"}, true, nil
	case "Finalized", "Executed", "Sealed":
	default:
		return Outcome{}, false, fmt.Errorf("%w: GET %s: status %q", ErrUnavailable, path, r.Status)
	}
	height, err := c.height(ctx, r.BlockID)
	if err != nil {
		return Outcome{}, false, fmt.Errorf("%w: the block of a transaction result: %w", ErrUnavailable, err)
	}
	o := Outcome{Progress: Mined, BlockNumber: height}
	if r.Status == "Sealed" {
		o.Confirmations = 1
	}
	if r.StatusCode != 0 || r.Execution == "Failure" {
		o.Failed, o.Error = true, "execution failed: "+r.ErrorMessage
	}
	return o, true, nil
}

// height asks GET /v1/blocks/{id} for a block's height, or GET
// /v1/blocks?height=sealed for the sealed head's when id is "".
func (c *FlowClient) height(ctx context.Context, id string) (uint64, error) {
	path, query := "/v1/blocks/"+id, url.Values(nil)
	if id == "" {
		path, query = "/v1/blocks", url.Values{"height": {"sealed"}}
	}
	var blocks []struct {
		Header struct {
			Height string `json:"height"`
		} `json:"header"`
	}
	if err := c.node.getJSONQuery(ctx, path, query, &blocks); err != nil {
		return 0, err
	}
	if len(blocks) != 1 {
		return 0, fmt.Errorf("%w: GET %s answered %d blocks", ErrUnavailable, path, len(blocks))
	}
	h, err := strconv.ParseUint(blocks[0].Header.Height, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: GET %s: height %q", ErrUnavailable, path, blocks[0].Header.Height)
	}
	return h, nil
}
