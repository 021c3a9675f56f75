package approver

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
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

// Where is the SQL condition ("WHERE …", or empty) selecting f's requests
// by status and chain and, when page is set, after f.Before; ph writes the
// placeholder of the n-th parameter (1-based): "?" for SQLite, "$n" for
// PostgreSQL. Both stores' requests tables have these columns.
func (f Filter) Where(page bool, ph func(n int) string) (string, []any) {
	var conds []string
	var args []any
	add := func(v any) string { args = append(args, v); return ph(len(args)) }
	if f.Status != "" {
		conds = append(conds, "status = "+add(string(f.Status)))
	}
	if f.Chain != "" {
		conds = append(conds, "chain = "+add(f.Chain))
	}
	if page && f.Before != nil {
		u := f.Before.Updated.UnixNano()
		conds = append(conds, "(updated_at < "+add(u)+" OR (updated_at = "+add(u)+" AND seq < "+add(f.Before.Seq)+"))")
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "WHERE " + strings.Join(conds, " AND "), args
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
	return RuleEntry(id, chain, need.Rule, st, now), nil
}

// RuleEntry is the history entry of outcome st that rule settled on
// request id of chain.
func RuleEntry(id, chain, rule string, st Status, now time.Time) HistoryEntry {
	d := approval.Approve
	if st == StatusRefused {
		d = approval.Refuse
	}
	return HistoryEntry{Kind: HistoryDecision, At: now, ID: id, Chain: chain, Decision: d, Outcome: st, Reason: "rule " + rule}
}

// Status is the status a new request is stored with.
func (s *Settlement) Status() Status {
	if s == nil {
		return StatusPending
	}
	return s.Outcome
}

// Recorded is what Record returns for a request it has just stored: the
// request as given, no decisions yet, settled or not.
func Recorded(req approval.Request, need Need, settle *Settlement, now time.Time) Tx {
	// As the stores read times back: nanoseconds, UTC.
	now = time.Unix(0, now.UnixNano()).UTC()
	return Tx{Request: req, Need: need, Status: settle.Status(), FirstSeen: now, LastAsked: now, Updated: now}
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

// Rows is what both stores' query results share (*sql.Rows, pgx.Rows).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ReadDecisions reads the decisions on (id, digest) from rows of operator,
// decision, reason and time (Unix nanoseconds), as Decide's tally reads them.
func ReadDecisions(rows Rows, id, digest string) ([]Decision, error) {
	var out []Decision
	for rows.Next() {
		d := Decision{ID: id, Digest: digest}
		var dec string
		var t int64
		if err := rows.Scan(&d.Operator, &dec, &d.Reason, &t); err != nil {
			return nil, err
		}
		d.Decision, d.At = approval.Decision(dec), unixNano(t)
		out = append(out, d)
	}
	return out, rows.Err()
}

// ReadTxs reads requests from rows of seq, id, digest, body, need, status,
// first seen, last asked and updated (Unix nanoseconds), as both stores'
// lists select them; their decisions are added by AddDecisions.
func ReadTxs(rows Rows) ([]Tx, error) {
	var out []Tx
	for rows.Next() {
		var id, digest, status string
		var body, need []byte
		var t Tx
		var first, last, upd int64
		if err := rows.Scan(&t.Seq, &id, &digest, &body, &need, &status, &first, &last, &upd); err != nil {
			return nil, err
		}
		var err error
		if t.Request, t.Need, err = DecodeRequest(id, body, need); err != nil {
			return nil, err
		}
		t.Status = Status(status)
		t.FirstSeen, t.LastAsked, t.Updated = unixNano(first), unixNano(last), unixNano(upd)
		out = append(out, t)
	}
	return out, rows.Err()
}

// AddDecisions reads decisions from rows of id, digest, operator, decision,
// reason and time (Unix nanoseconds) and adds each to its request in txs.
func AddDecisions(txs []Tx, rows Rows) error {
	index := make(map[[2]string]int, len(txs))
	for i, t := range txs {
		index[[2]string{t.Request.ID, t.Request.Digest}] = i
	}
	for rows.Next() {
		var d Decision
		var dec string
		var t int64
		if err := rows.Scan(&d.ID, &d.Digest, &d.Operator, &dec, &d.Reason, &t); err != nil {
			return err
		}
		d.Decision, d.At = approval.Decision(dec), unixNano(t)
		if i, ok := index[[2]string{d.ID, d.Digest}]; ok {
			txs[i].Decisions = append(txs[i].Decisions, d)
		}
	}
	return rows.Err()
}

// ReadHistory reads history entries from rows of seq, kind, time (Unix
// nanoseconds), operator, id, chain, decision, outcome, reason and remote.
func ReadHistory(rows Rows) ([]HistoryEntry, error) {
	return ReadAll(rows, func() (HistoryEntry, error) {
		var e HistoryEntry
		var t int64
		var dec, outcome string
		err := rows.Scan(&e.Seq, &e.Kind, &t, &e.Operator, &e.ID, &e.Chain, &dec, &outcome, &e.Reason, &e.Remote)
		e.At, e.Decision, e.Outcome = unixNano(t), approval.Decision(dec), Status(outcome)
		return e, err
	})
}

// ReadAll reads every row of rows with scan, which reads the current one;
// no rows give an empty list, not nil.
func ReadAll[T any](rows Rows, scan func() (T, error)) ([]T, error) {
	out := []T{}
	for rows.Next() {
		v, err := scan()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// unixNano is a stored time (Unix nanoseconds) in UTC.
func unixNano(n int64) time.Time { return time.Unix(0, n).UTC() }
