package approver

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/custoskms/custos/approval"
)

// What the Store implementations share: how a request is stored and read
// back, the defaults of a page, and the history entry of a rule's outcome.

// EncodeRequest is how a Store keeps a request and its need: JSON.
func EncodeRequest(req approval.Request, need Need) (body, needJSON []byte, err error) {
	if body, err = json.Marshal(req); err != nil {
		return nil, nil, err
	}
	needJSON, err = json.Marshal(need)
	return body, needJSON, err
}

// DecodeRequest reads back what EncodeRequest wrote for request id.
func DecodeRequest(id string, body, needJSON []byte) (approval.Request, Need, error) {
	var req approval.Request
	var need Need
	if err := json.Unmarshal(body, &req); err != nil {
		return req, need, fmt.Errorf("request %s: %w", id, err)
	}
	if err := json.Unmarshal(needJSON, &need); err != nil {
		return req, need, fmt.Errorf("request %s: %w", id, err)
	}
	return req, need, nil
}

// First is the first of txs, or ErrRequestNotFound.
func First(txs []Tx, err error) (Tx, error) {
	if err != nil {
		return Tx{}, err
	}
	if len(txs) == 0 {
		return Tx{}, ErrRequestNotFound
	}
	return txs[0], nil
}

// QueueLimit is f.Limit with its default.
func (f Filter) QueueLimit() int {
	if f.Limit <= 0 {
		return 200
	}
	return f.Limit
}

// Bounds are the page's exclusive upper seq and its size, with defaults.
func (p HistoryPage) Bounds() (before int64, limit int) {
	before, limit = p.Before, p.Limit
	if before <= 0 {
		before = math.MaxInt64
	}
	if limit <= 0 {
		limit = 50
	}
	return before, limit
}

// RuleDecision is the history entry of an outcome a rule settled (SetStatus)
// on request id of chain, whose stored need is needJSON.
func RuleDecision(id, chain string, needJSON []byte, st Status, now time.Time) (HistoryEntry, error) {
	var need Need
	if err := json.Unmarshal(needJSON, &need); err != nil {
		return HistoryEntry{}, fmt.Errorf("request %s: %w", id, err)
	}
	d := approval.Approve
	if st == StatusRefused {
		d = approval.Refuse
	}
	return HistoryEntry{Kind: HistoryDecision, At: now, ID: id, Chain: chain, Decision: d, Outcome: st, Reason: "rule " + need.Rule}, nil
}

// Settle is the outcome a request whose stored need is needJSON reaches
// with its stored decisions ds: what Decide stores.
func Settle(id string, needJSON []byte, ds []Decision) (Status, error) {
	var need Need
	if err := json.Unmarshal(needJSON, &need); err != nil {
		return "", fmt.Errorf("request %s: %w", id, err)
	}
	d, _ := Tally(need, ds)
	return Outcome(d), nil
}
