package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/custoskms/custos/internal/pending"
)

// The pending query with a signature list (often a signer's whole wallet, up
// to a million IDs) costs one index probe per distinct ID and one row per
// match. Everything around those probes is kept linear and allocation-light:
// keys are hashed from a precomputed tenant/chain prefix, sorted by radix,
// handed to SQLite as one JSONB array (no text parsing on its side), and
// collisions are filtered by binary search instead of a map. When the list is
// long against the whole pending index (a signer asking with 250,000 IDs of a
// tenant holding 100,000 pending transactions), the index is read once in one
// statement instead, and only the matched rows are fetched. Long lists are
// split into ranges read on separate connections at once.

// pendingByKeysSQL finds the pending transactions of a tenant and chain whose
// index keys are in ?1 (a JSON or JSONB array). json_each is forced to the
// outer loop by CROSS JOIN, so the cost follows the list, not the table.
// The matched rows are then read by rowid (NOT INDEXED keeps the planner from
// seeking txs_pending first and the table second for each of them).
const pendingByKeysSQL = `SELECT ` + pendingColumns + ` FROM txs NOT INDEXED
	WHERE seq IN (SELECT p.seq FROM json_each(?1) j CROSS JOIN pending_keys p ON p.k = j.value)
	  AND tenant = ?2 AND chain = ?3 AND tx_id IS NULL AND deleted_at IS NULL AND failed_at IS NULL
	ORDER BY seq`

// pendingColumns are what a pending transaction's answer needs, after its
// seq: its chain is the query's and its tx_id NULL, so neither is read.
const pendingColumns = `seq, id, serialized, hashes, idx, signatures, withdrawal_id, withdrawal_responses`

// pendingBySeqsSQL reads the pending transactions of a tenant and chain among
// the rows whose seq is in ?1, by rowid.
const pendingBySeqsSQL = `SELECT ` + pendingColumns + ` FROM txs NOT INDEXED
	WHERE seq IN (SELECT value FROM json_each(?1))
	  AND tenant = ?2 AND chain = ?3 AND tx_id IS NULL AND deleted_at IS NULL AND failed_at IS NULL
	ORDER BY seq`

// parallelMinKeys is the list length from which probing is split across
// connections; below it one query is cheaper than the coordination.
const parallelMinKeys = 16 << 10

// jsonbIntArray encodes keys as a JSONB array of INT elements (SQLite's
// binary JSON: a header byte of payload size and type, then the payload, an
// integer being its decimal text), which json_each reads without parsing.
func jsonbIntArray(keys []int64) []byte {
	out := make([]byte, 5, 5+22*len(keys))
	var digits [24]byte
	for _, k := range keys {
		d := strconv.AppendInt(digits[:0], k, 10)
		if len(d) <= 11 {
			out = append(out, byte(len(d))<<4|jsonbInt)
		} else {
			out = append(out, 12<<4|jsonbInt, byte(len(d)))
		}
		out = append(out, d...)
	}
	// The array's own header: type ARRAY, size in the 4 bytes that follow.
	out[0] = 14<<4 | jsonbArray
	binary.BigEndian.PutUint32(out[1:5], uint32(len(out)-5))
	return out
}

const (
	jsonbInt   = 3
	jsonbArray = 11
)

// pendingByIDs is Pending with a non-empty signature list: the candidates
// come from the index in memory (index.go) when there is one or the list is
// long enough to build it, else from SQLite's.
func (s *Store) pendingByIDs(ctx context.Context, q pending.PendingQuery) ([]pending.Tx, error) {
	ps := pending.NewProbeSet(q.Tenant, q.Chain, q.SignatureIDs)
	keys := ps.DistinctKeys()
	seqs, ok, exact, err := s.indexCandidates(ctx, ps, keys, len(keys) >= s.indexFrom)
	if err != nil {
		return nil, fmt.Errorf("query pending txs: %w", err)
	}
	if !ok {
		return s.inParts(keys, func(list []int64) ([]seqTx, error) {
			return s.pendingByKeys(ctx, ps, q, pendingByKeysSQL, list)
		})
	}
	if len(seqs) == 0 {
		return []pending.Tx{}, nil
	}
	return s.inParts(seqs, func(list []int64) ([]seqTx, error) {
		return s.pendingBySeqs(ctx, ps, q, list, exact)
	})
}

// indexCandidates asks the index in memory for the seqs of the
// transactions with one of keys, building it first when it is missing or
// behind the table and build allows; ok is false when it could not answer,
// exact true when they are exactly the pending ones (keyIndex.candidates).
func (s *Store) indexCandidates(ctx context.Context, ps *pending.ProbeSet, keys []int64, build bool) (seqs []int64, ok, exact bool, err error) {
	if !build && !s.index.ready() {
		return nil, false, false, nil // a short list, and no index to ask
	}
	// The highest seq committed before the index is read (one the index has
	// not seen was written by another process) and the count of ends, in
	// one snapshot.
	var seen, ends int64
	if err := s.hot.QueryRow(ctx, nil, `SELECT coalesce((SELECT max(seq) FROM txs), 0), (SELECT n FROM pending_ends)`).Scan(&seen, &ends); err != nil {
		return nil, false, false, err
	}
	if seqs, ok, exact = s.index.candidates(keys, ps.HasKey, seen, ends); ok || !build {
		return seqs, ok, exact, nil
	}
	if err := s.group.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.index.build(ctx, tx, seen) }); err != nil {
		return nil, false, false, err
	}
	seqs, ok, exact = s.index.candidates(keys, ps.HasKey, seen, ends)
	return seqs, ok, exact, nil
}

// inParts runs query over list, split into contiguous ranges read on separate
// connections at once when the list is long, and merges the answers.
func (s *Store) inParts(list []int64, read func([]int64) ([]seqTx, error)) ([]pending.Tx, error) {
	parts := 1
	if len(list) >= parallelMinKeys/4 {
		parts = min(runtime.GOMAXPROCS(0), 4, max(1, len(list)/(parallelMinKeys/8)))
	}
	if parts <= 1 {
		rows, err := read(list)
		return txsOf(rows), err
	}
	results := make([][]seqTx, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(list)/parts, (p+1)*len(list)/parts
		wg.Go(func() { results[p], errs[p] = read(list[lo:hi]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return mergeBySeq(results), nil
}

// nextInt parses the leading integer of a comma-separated list.
func nextInt(s string) (int64, string, error) {
	i := strings.IndexByte(s, ',')
	if i < 0 {
		i = len(s)
	}
	v, err := strconv.ParseInt(s[:i], 10, 64)
	if i < len(s) {
		i++
	}
	return v, s[i:], err
}

// seqTx is a transaction with its row order. The transaction is shared
// with the row cache, which never changes it: the answer copies it.
type seqTx struct {
	seq int64
	tx  *pending.Tx
}

func txsOf(rows []seqTx) []pending.Tx {
	out := make([]pending.Tx, len(rows))
	for i := range rows {
		out[i] = *rows[i].tx
	}
	return out
}

// mergeBySeq merges per-range answers, each in seq order, into one list in
// seq order; a transaction matched in two ranges appears once.
func mergeBySeq(parts [][]seqTx) []pending.Tx {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]pending.Tx, 0, n)
	last := int64(-1)
	for {
		best := -1
		for i, p := range parts {
			if len(p) > 0 && (best < 0 || p[0].seq < parts[best][0].seq) {
				best = i
			}
		}
		if best < 0 {
			return out
		}
		r := parts[best][0]
		parts[best] = parts[best][1:]
		if r.seq != last {
			out = append(out, *r.tx)
			last = r.seq
		}
	}
}

// pendingByKeys runs query (pendingByKeysSQL or pendingBySeqsSQL) for part of
// its list and keeps the rows that really match (not by a key collision), in
// seq order.
func (s *Store) pendingByKeys(ctx context.Context, ps *pending.ProbeSet, q pending.PendingQuery, query string, list []int64) ([]seqTx, error) {
	rows, err := s.db.QueryContext(ctx, query, jsonbIntArray(list), q.Tenant, q.Chain)
	if err != nil {
		return nil, fmt.Errorf("query pending txs: %w", err)
	}
	defer rows.Close()
	// A list of seqs (from the index in memory) is at most one row each and
	// mostly matches: sized for it, so that appending tens of thousands of
	// rows does not copy them again at each doubling. A list of keys matches
	// a fraction of its length.
	size := len(list)
	if query != pendingBySeqsSQL {
		size = min(size, 1024)
	}
	out := make([]seqTx, 0, size)
	// One set of destinations for every row, of the types database/sql
	// assigns without reflection; the strings are the driver's own copies.
	var (
		seq                int64
		t                  pending.Tx
		hashes             string
		idx, sigs, wid, wr any
	)
	dest := []any{&seq, &t.ID, &t.SerializedTransaction, &hashes, &idx, &sigs, &wid, &wr}
	for rows.Next() {
		t = pending.Tx{}
		idx, sigs, wid, wr = nil, nil, nil, nil
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("query pending txs: %w", err)
		}
		if err := pendingTx(&t, q.Chain, hashes, idx, sigs, wid, wr); err != nil {
			return nil, fmt.Errorf("query pending txs: %w", err)
		}
		if ps.Matches(&t) {
			out = append(out, seqTx{seq, new(t)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query pending txs: %w", err)
	}
	return out, nil
}

// pendingTx fills the rest of a pending row's transaction from its columns
// (pendingColumns), as scanTx does from txColumns.
func pendingTx(t *pending.Tx, chain, hashes string, idx, sigs, wid, wr any) error {
	t.Chain = chain
	var ok bool
	if t.Hashes, ok = stringArray(hashes); !ok {
		if err := json.Unmarshal([]byte(hashes), &t.Hashes); err != nil {
			return fmt.Errorf("stored hashes of %s: %w", t.ID, err)
		}
	}
	if t.Hashes == nil {
		t.Hashes = []string{}
	}
	if v, ok := idx.(int64); ok {
		i := uint32(v)
		t.Index = &i
	}
	if v, ok := sigs.(string); ok {
		if err := json.Unmarshal([]byte(v), &t.Signatures); err != nil {
			return fmt.Errorf("stored signatures of %s: %w", t.ID, err)
		}
	}
	t.WithdrawalID, _ = wid.(string)
	if v, ok := wr.(string); ok {
		t.WithdrawalResponses = json.RawMessage(v)
	}
	return nil
}

// stringArray reads the stored form of a list of IDs (json.Marshal's
// compact array) when every string in it is plain printable ASCII, which
// then reads as itself, without a copy; ok is false for anything else,
// which json.Unmarshal reads instead.
func stringArray(s string) (out []string, ok bool) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, false
	}
	s = s[1 : len(s)-1]
	if s == "" {
		return []string{}, true
	}
	out = make([]string, 0, strings.Count(s, `","`)+1)
	for {
		if len(s) < 2 || s[0] != '"' {
			return nil, false
		}
		i := 1
		for i < len(s) && s[i] != '"' {
			if c := s[i]; c < 0x20 || c > 0x7e || c == '\\' {
				return nil, false
			}
			i++
		}
		if i == len(s) {
			return nil, false
		}
		out = append(out, s[1:i])
		s = s[i+1:]
		if s == "" {
			return out, true
		}
		if s[0] != ',' {
			return nil, false
		}
		s = s[1:]
	}
}
