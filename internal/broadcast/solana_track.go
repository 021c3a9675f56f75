package broadcast

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/custoskms/custos/internal/chain/sol"
)

var _ Tracker = (*SolanaClient)(nil)

// Lookup implements Tracker with getSignatureStatuses (history searched, so
// that a transaction older than the node's recent status cache is found):
// a status is Mined in its slot, counted as one confirmation once
// "finalized" (a rooted slot: over two thirds of the stake voted on 32
// blocks above it) and none before; a non-null err is Failed, with the
// error as the node words it. The fee comes from getTransaction once
// finalized. A transaction the node does not know is Dropped once its
// blockhash is no longer valid (no node accepts it then; its status is
// asked once more first, as it may have just been processed), else Missing:
// sending the same bytes again is safe, the cluster keeps one per signature.
func (c *SolanaClient) Lookup(ctx context.Context, txID, txData string) (_ Outcome, err error) {
	defer scrub(&err, c.node.raw)
	o, found, err := c.signatureStatus(ctx, txID)
	if err != nil || found {
		return o, err
	}
	msg, ok := solanaMessage(txData)
	if !ok {
		return Outcome{Progress: Unknown}, nil
	}
	expired, err := sol.SOL.Expired(ctx, c, msg)
	if err != nil {
		return Outcome{}, err
	}
	if !expired {
		return Outcome{Progress: Missing}, nil
	}
	if o, found, err := c.signatureStatus(ctx, txID); err != nil || found {
		return o, err
	}
	return Outcome{Progress: Dropped, Error: "its blockhash expired before the cluster processed it"}, nil
}

// signatureStatus asks getSignatureStatuses about one signature; found is
// false when the node has no status for it.
func (c *SolanaClient) signatureStatus(ctx context.Context, txID string) (Outcome, bool, error) {
	var statuses []*struct {
		Slot               uint64          `json:"slot"`
		Err                json.RawMessage `json:"err"`
		ConfirmationStatus string          `json:"confirmationStatus"`
	}
	params := []any{[]string{txID}, map[string]bool{"searchTransactionHistory": true}}
	if err := c.call(ctx, "getSignatureStatuses", params, &statuses); err != nil {
		return Outcome{}, false, err
	}
	if len(statuses) != 1 {
		return Outcome{}, false, fmt.Errorf("%w: getSignatureStatuses answered %d statuses for one signature", ErrUnavailable, len(statuses))
	}
	s := statuses[0]
	if s == nil {
		return Outcome{}, false, nil
	}
	o := Outcome{Progress: Mined, BlockNumber: s.Slot}
	if e := strings.TrimSpace(string(s.Err)); e != "" && e != "null" {
		o.Failed, o.Error = true, "transaction error: "+e
	}
	if s.ConfirmationStatus != "finalized" {
		return o, true, nil
	}
	o.Confirmations = 1
	fee, err := c.fee(ctx, txID)
	if err != nil {
		return Outcome{}, false, err
	}
	o.Fee = fee
	return o, true, nil
}

// fee asks getTransaction (finalized) for the lamports the transaction
// paid; "" when the node does not tell.
func (c *SolanaClient) fee(ctx context.Context, txID string) (string, error) {
	var res struct {
		Result *struct {
			Meta *struct {
				Fee *uint64 `json:"fee"`
			} `json:"meta"`
		} `json:"result"`
		Error *jsonRPCErr `json:"error"`
	}
	req := map[string]any{"jsonrpc": "2.0", "id": 1, "method": "getTransaction", "params": []any{txID,
		map[string]any{"encoding": "json", "commitment": "finalized", "maxSupportedTransactionVersion": 0}}}
	if err := c.node.postJSON(ctx, "", req, &res); err != nil {
		return "", err
	}
	switch {
	case res.Error != nil:
		return "", fmt.Errorf("%w: getTransaction: %s (code %d)", ErrUnavailable, res.Error.Message, res.Error.Code)
	case res.Result == nil || res.Result.Meta == nil || res.Result.Meta.Fee == nil:
		return "", nil
	}
	return fmt.Sprint(*res.Result.Meta.Fee), nil
}

// solanaMessage is the message of a signed wire transaction (base64), in
// the base64 form sol.Chain reads; false when txData is not one.
func solanaMessage(txData string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(txData))
	// One compact-u16 byte counts the signatures (fewer than 128).
	if err != nil || len(raw) < 1 || raw[0] == 0 || raw[0]&0x80 != 0 || len(raw) <= 1+64*int(raw[0]) {
		return "", false
	}
	return base64.StdEncoding.EncodeToString(raw[1+64*int(raw[0]):]), true
}
