package broadcast

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/custoskms/custos/internal/chain/xrp"
)

// The reads that complete and sequence a queued XRP transaction (xrp.Node).
var _ xrp.Node = (*XRPLClient)(nil)

// rippledError is the part of a JSON-RPC answer every method shares.
type rippledError struct {
	Status       string `json:"status"`
	Error        string `json:"error"`
	ErrorMessage string `json:"error_message"`
}

// call asks one rippled JSON-RPC method and decodes its result into out. An
// error answer about the server's state (busy, not synced) wraps
// ErrUnavailable; any other (an account it does not hold) ErrRejected.
func (c *XRPLClient) call(ctx context.Context, method string, params map[string]any, out any) error {
	_, err := c.callCode(ctx, method, params, out)
	return err
}

// callCode is call that also gives the error code of a refusal (txnNotFound,
// actNotFound), for callers to whom some refusals are answers.
func (c *XRPLClient) callCode(ctx context.Context, method string, params map[string]any, out any) (code string, err error) {
	defer scrub(&err, c.node.raw)
	var a struct {
		Result json.RawMessage `json:"result"`
	}
	if err := c.node.postJSON(ctx, "", map[string]any{"method": method, "params": []any{params}}, &a); err != nil {
		return "", fmt.Errorf("%s: %w", method, err)
	}
	var e rippledError
	if json.Unmarshal(a.Result, &e) != nil {
		return "", fmt.Errorf("%w: %s: answer without a result", ErrUnavailable, method)
	}
	if e.Status != "success" {
		switch e.Error {
		case "":
			return "", fmt.Errorf("%w: %s answered status %q", ErrUnavailable, method, e.Status)
		case "tooBusy", "noNetwork", "noCurrent", "noClosed", "notSynced", "lgrNotFound", "slowDown":
			return "", fmt.Errorf("%w: %s: %s", ErrUnavailable, method, e.Error)
		}
		return e.Error, fmt.Errorf("%w: %s: %s: %s", ErrRejected, method, e.Error, e.ErrorMessage)
	}
	if json.Unmarshal(a.Result, out) != nil {
		return "", fmt.Errorf("%w: %s: answer is not the expected JSON", ErrUnavailable, method)
	}
	return "", nil
}

// AccountSequence asks account_info in the current (open) ledger, so that
// transactions the server already applied provisionally count.
func (c *XRPLClient) AccountSequence(ctx context.Context, account string) (uint32, error) {
	var r struct {
		AccountData *struct {
			Sequence *uint32 `json:"Sequence"`
		} `json:"account_data"`
	}
	if err := c.call(ctx, "account_info", map[string]any{"account": account, "ledger_index": "current"}, &r); err != nil {
		return 0, err
	}
	if r.AccountData == nil || r.AccountData.Sequence == nil {
		return 0, fmt.Errorf("%w: account_info answered no account_data.Sequence", ErrUnavailable)
	}
	return *r.AccountData.Sequence, nil
}

// Fees asks the method fee for the base and the open-ledger cost in drops.
func (c *XRPLClient) Fees(ctx context.Context) (xrp.Fees, error) {
	var r struct {
		Drops struct {
			Base       string `json:"base_fee"`
			OpenLedger string `json:"open_ledger_fee"`
		} `json:"drops"`
	}
	if err := c.call(ctx, "fee", map[string]any{}, &r); err != nil {
		return xrp.Fees{}, err
	}
	base, err1 := strconv.ParseUint(r.Drops.Base, 10, 64)
	open, err2 := strconv.ParseUint(r.Drops.OpenLedger, 10, 64)
	if err1 != nil || err2 != nil {
		return xrp.Fees{}, fmt.Errorf("%w: fee answered no drops.base_fee and drops.open_ledger_fee", ErrUnavailable)
	}
	return xrp.Fees{Base: base, OpenLedger: open}, nil
}

// ValidatedLedger asks the method ledger for the latest validated ledger.
func (c *XRPLClient) ValidatedLedger(ctx context.Context) (uint32, error) {
	var r struct {
		LedgerIndex *uint32 `json:"ledger_index"`
		Validated   bool    `json:"validated"`
	}
	if err := c.call(ctx, "ledger", map[string]any{"ledger_index": "validated"}, &r); err != nil {
		return 0, err
	}
	if r.LedgerIndex == nil || !r.Validated {
		return 0, fmt.Errorf("%w: ledger answered no validated ledger_index", ErrUnavailable)
	}
	return *r.LedgerIndex, nil
}
