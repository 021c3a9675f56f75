package broadcast

import (
	"context"
	"fmt"
	"strconv"

	"github.com/custoskms/custos/internal/chain/xlm"
)

// The reads that complete and sequence a queued XLM envelope (xlm.Node).
var _ xlm.Node = (*StellarClient)(nil)

// AccountSequence asks GET /accounts/{id} for the account's sequence, which
// Horizon writes as a decimal string (an int64). An account the ledger does
// not hold is a 404: ErrRejected.
func (c *StellarClient) AccountSequence(ctx context.Context, account string) (_ int64, err error) {
	defer scrub(&err, c.node.raw)
	var a struct {
		Sequence string `json:"sequence"`
	}
	if err := c.node.getJSON(ctx, "accounts/"+account, &a); err != nil {
		return 0, err
	}
	s, err := strconv.ParseInt(a.Sequence, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: Horizon answered no account sequence", ErrUnavailable)
	}
	return s, nil
}

// FeeStats asks GET /fee_stats for the base fee and the 90th percentile of
// the fees recent ledgers charged, per operation, in stroops (strings).
func (c *StellarClient) FeeStats(ctx context.Context) (_ xlm.FeeStats, err error) {
	defer scrub(&err, c.node.raw)
	var a struct {
		BaseFee string `json:"last_ledger_base_fee"`
		Charged struct {
			P90 string `json:"p90"`
		} `json:"fee_charged"`
	}
	if err := c.node.getJSON(ctx, "fee_stats", &a); err != nil {
		return xlm.FeeStats{}, err
	}
	base, err1 := strconv.ParseUint(a.BaseFee, 10, 64)
	p90, err2 := strconv.ParseUint(a.Charged.P90, 10, 64)
	if err1 != nil || err2 != nil {
		return xlm.FeeStats{}, fmt.Errorf("%w: Horizon answered no last_ledger_base_fee and fee_charged.p90", ErrUnavailable)
	}
	return xlm.FeeStats{BaseFee: base, ChargedP90: p90}, nil
}
