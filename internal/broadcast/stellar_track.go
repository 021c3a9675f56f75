package broadcast

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stellar/go-stellar-sdk/xdr"
)

var _ Tracker = (*StellarClient)(nil)

// Lookup implements Tracker with Horizon's GET /transactions/{hash}. Horizon
// holds only transactions of closed ledgers, which the Stellar consensus
// never reverts: successful is Mined, unsuccessful Mined and Failed (the
// ledger charged its fee and consumed its sequence), with the confirmations
// counted from the root's history_latest_ledger. One Horizon does not hold
// (404) is judged from its envelope: the source account's sequence at or past
// the envelope's means another transaction consumed it (Dropped, once the
// hash is asked again); else, once a ledger closed after the envelope's
// maxTime (asked only when this machine's clock says so), no ledger can
// include it any more (Expired, once the hash is asked again: a ledger
// closing meanwhile may have); else the same envelope is still valid
// (Missing).
func (c *StellarClient) Lookup(ctx context.Context, txID, txData string) (_ Outcome, err error) {
	defer scrub(&err, c.node.raw)
	if !isHash(txID) {
		return Outcome{}, fmt.Errorf("%w: %q is not a transaction hash", ErrRejected, txID)
	}
	o, found, err := c.closedTx(ctx, txID)
	if err != nil || found {
		return o, err
	}
	var env xdr.TransactionEnvelope
	if xdr.SafeUnmarshalBase64(strings.TrimSpace(txData), &env) != nil {
		return Outcome{Progress: Unknown}, nil
	}
	src := env.SourceAccount().ToAccountId()
	account := src.Address()
	seq, err := c.AccountSequence(ctx, account)
	if err != nil {
		return Outcome{}, err
	}
	if seq >= env.SeqNum() {
		if o, found, err := c.closedTx(ctx, txID); err != nil || found {
			return o, err
		}
		return Outcome{Progress: Dropped, Error: fmt.Sprintf("sequence %d of %s was consumed by another transaction", env.SeqNum(), account)}, nil
	}
	tb := env.TimeBounds()
	if tb == nil || tb.MaxTime == 0 || time.Now().Unix() <= int64(tb.MaxTime) {
		return Outcome{Progress: Missing}, nil
	}
	// The ledgers' close times, not this clock, decide (txTOO_LATE).
	closed, err := c.latestClosedAt(ctx)
	if err != nil || closed.Unix() <= int64(tb.MaxTime) {
		return Outcome{Progress: Missing}, err
	}
	if o, found, err := c.closedTx(ctx, txID); err != nil || found {
		return o, err
	}
	return Outcome{Progress: Expired, Error: fmt.Sprintf("time bounds ended at %s before a ledger included it (latest ledger closed at %s)",
		time.Unix(int64(tb.MaxTime), 0).UTC().Format(time.RFC3339), closed.UTC().Format(time.RFC3339))}, nil
}

// latestClosedAt is the close time of Horizon's latest ingested ledger
// (its root's history_latest_ledger_closed_at); zero when Horizon does not
// tell, which never expires anything.
func (c *StellarClient) latestClosedAt(ctx context.Context) (time.Time, error) {
	var root struct {
		ClosedAt time.Time `json:"history_latest_ledger_closed_at"`
	}
	if err := c.node.getJSON(ctx, "", &root); err != nil {
		return time.Time{}, err
	}
	return root.ClosedAt, nil
}

// closedTx asks GET /transactions/{hash}; found is false on a 404.
func (c *StellarClient) closedTx(ctx context.Context, hash string) (Outcome, bool, error) {
	status, body, err := c.node.do(ctx, http.MethodGet, "GET /transactions", "transactions/"+hash, "", nil)
	switch {
	case err != nil:
		return Outcome{}, false, err
	case status == http.StatusNotFound:
		return Outcome{}, false, nil
	case status/100 != 2:
		return Outcome{}, false, fmt.Errorf("%w: GET /transactions: HTTP %d", ErrUnavailable, status)
	}
	var tx struct {
		Hash       string          `json:"hash"`
		Ledger     *uint32         `json:"ledger"`
		Successful *bool           `json:"successful"`
		FeeCharged json.RawMessage `json:"fee_charged"` // a string, a number before Horizon 1.0
		ResultXDR  string          `json:"result_xdr"`
	}
	if json.Unmarshal(body, &tx) != nil || !strings.EqualFold(tx.Hash, hash) || tx.Ledger == nil || tx.Successful == nil {
		return Outcome{}, false, fmt.Errorf("%w: GET /transactions answered no hash %s with ledger and successful", ErrUnavailable, hash)
	}
	var root struct {
		Latest *uint32 `json:"history_latest_ledger"`
	}
	if err := c.node.getJSON(ctx, "", &root); err != nil {
		return Outcome{}, false, err
	}
	if root.Latest == nil {
		return Outcome{}, false, fmt.Errorf("%w: Horizon's root answered no history_latest_ledger", ErrUnavailable)
	}
	o := Outcome{Progress: Mined, BlockNumber: uint64(*tx.Ledger)}
	if *root.Latest >= *tx.Ledger {
		o.Confirmations = uint64(*root.Latest-*tx.Ledger) + 1
	}
	if fee := strings.Trim(string(tx.FeeCharged), `"`); fee != "" {
		if _, err := strconv.ParseUint(fee, 10, 64); err == nil {
			o.Fee = fee
		}
	}
	if !*tx.Successful {
		o.Failed, o.Error = true, "transaction failed"
		var res xdr.TransactionResult
		if len(tx.ResultXDR) <= 1<<16 && xdr.SafeUnmarshalBase64(tx.ResultXDR, &res) == nil {
			o.Error += ": " + res.Result.Code.String()
		}
	}
	return o, true, nil
}
