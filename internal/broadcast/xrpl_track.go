package broadcast

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	binarycodec "github.com/Peersyst/xrpl-go/binary-codec"
)

var _ Tracker = (*XRPLClient)(nil)

// xrplTx is what the method tx answers of a transaction (binary false). API
// version 1 puts the transaction's fields beside the others, version 2 under
// tx_json: Fee is read from either.
type xrplTx struct {
	Hash        string          `json:"hash"`
	LedgerIndex *uint32         `json:"ledger_index"`
	Validated   bool            `json:"validated"`
	Fee         string          `json:"Fee"`
	Meta        json.RawMessage `json:"meta"`
	TxJSON      struct {
		Hash string `json:"hash"`
		Fee  string `json:"Fee"`
	} `json:"tx_json"`
}

// Lookup implements Tracker with the method tx. A transaction in a validated
// ledger is final whatever its result: tesSUCCESS is Mined, a tec… result is
// Mined and Failed (the ledger took its fee and nothing else), with the
// confirmations counted from the latest validated ledger. One the server
// holds unvalidated is Pending. One it does not know is judged from its
// signed blob against the account in the latest validated ledger: its
// Sequence used (by another transaction, once tx is asked again) is
// Dropped, its LastLedgerSequence reached without it is Expired (no ledger
// can include it any more: had one, the Sequence would be used), else
// Missing (the same blob is still valid).
func (c *XRPLClient) Lookup(ctx context.Context, txID, txData string) (Outcome, error) {
	o, found, err := c.validatedTx(ctx, txID)
	if err != nil || found {
		return o, err
	}
	account, seq, last, ok := xrplSequence(txData)
	if !ok {
		return Outcome{Progress: Unknown}, nil
	}
	var info struct {
		LedgerIndex *uint32 `json:"ledger_index"`
		AccountData *struct {
			Sequence *uint32 `json:"Sequence"`
		} `json:"account_data"`
	}
	code, err := c.callCode(ctx, "account_info", map[string]any{"account": account, "ledger_index": "validated"}, &info)
	switch {
	case code == "actNotFound":
		// Not funded in the validated ledger: nothing of it was applied yet.
		return Outcome{Progress: Missing}, nil
	case err != nil:
		return Outcome{}, err
	case info.LedgerIndex == nil || info.AccountData == nil || info.AccountData.Sequence == nil:
		return Outcome{}, fmt.Errorf("%w: account_info answered no ledger_index and account_data.Sequence", ErrUnavailable)
	}
	if *info.AccountData.Sequence > seq {
		// Validated between the two look-ups, or another transaction used it.
		if o, found, err := c.validatedTx(ctx, txID); err != nil || found {
			return o, err
		}
		return Outcome{Progress: Dropped, Error: fmt.Sprintf("sequence %d of %s was used by another transaction", seq, account)}, nil
	}
	if last != 0 && *info.LedgerIndex >= last {
		return Outcome{Progress: Expired, Error: fmt.Sprintf("LastLedgerSequence %d passed (validated ledger %d) without the transaction", last, *info.LedgerIndex)}, nil
	}
	return Outcome{Progress: Missing}, nil
}

// validatedTx asks the method tx; found is false when the server does not
// know the transaction. An answer about another hash, or a validated one
// without a ledger or a result code a ledger can hold, is not trusted.
func (c *XRPLClient) validatedTx(ctx context.Context, txID string) (Outcome, bool, error) {
	var r xrplTx
	code, err := c.callCode(ctx, "tx", map[string]any{"transaction": txID, "binary": false}, &r)
	switch {
	case code == "txnNotFound":
		return Outcome{}, false, nil
	case err != nil:
		return Outcome{}, false, err
	}
	hash := r.Hash
	if hash == "" {
		hash = r.TxJSON.Hash
	}
	if !strings.EqualFold(hash, txID) {
		return Outcome{}, false, fmt.Errorf("%w: tx answered hash %q for transaction %s", ErrUnavailable, hash, txID)
	}
	if !r.Validated {
		return Outcome{Progress: Pending}, true, nil
	}
	var meta struct {
		TransactionResult string `json:"TransactionResult"`
	}
	if r.LedgerIndex == nil || json.Unmarshal(r.Meta, &meta) != nil {
		return Outcome{}, false, fmt.Errorf("%w: tx answered a validated transaction without ledger_index and meta", ErrUnavailable)
	}
	res := meta.TransactionResult
	if len(res) > 64 || (res != "tesSUCCESS" && !strings.HasPrefix(res, "tec")) {
		// Only tes and tec results are ever written to a ledger.
		return Outcome{}, false, fmt.Errorf("%w: tx answered a validated transaction with result %.64q", ErrUnavailable, res)
	}
	validated, err := c.ValidatedLedger(ctx)
	if err != nil {
		return Outcome{}, false, err
	}
	o := Outcome{Progress: Mined, BlockNumber: uint64(*r.LedgerIndex)}
	if validated >= *r.LedgerIndex {
		o.Confirmations = uint64(validated-*r.LedgerIndex) + 1
	}
	fee := r.Fee
	if fee == "" {
		fee = r.TxJSON.Fee
	}
	if _, err := strconv.ParseUint(fee, 10, 64); err == nil {
		o.Fee = fee
	}
	if res != "tesSUCCESS" {
		o.Failed, o.Error = true, res
	}
	return o, true, nil
}

// xrplSequence reads Account, Sequence and LastLedgerSequence (0 when
// absent) from a signed blob; ok is false when it does not decode.
func xrplSequence(txData string) (account string, seq, last uint32, ok bool) {
	defer func() {
		// The codec indexes its input without checking lengths in places.
		if recover() != nil {
			ok = false
		}
	}()
	tx, err := binarycodec.Decode(strings.ToUpper(strings.TrimSpace(txData)))
	if err != nil || strings.TrimSpace(txData) == "" {
		return "", 0, 0, false
	}
	account, _ = tx["Account"].(string)
	s, err := strconv.ParseUint(fmt.Sprint(tx["Sequence"]), 10, 32)
	if account == "" || err != nil || s == 0 {
		// Sequence 0 spends a Ticket, which this does not follow.
		return "", 0, 0, false
	}
	if v, has := tx["LastLedgerSequence"]; has {
		l, err := strconv.ParseUint(fmt.Sprint(v), 10, 32)
		if err != nil {
			return "", 0, 0, false
		}
		last = uint32(l)
	}
	return account, uint32(s), last, true
}
