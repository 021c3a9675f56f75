package postgres

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/custoskms/custos/internal/pending"
)

// A pending query with a signature list (and no claim) is answered in one of
// two ways, whichever costs less for the list and the pending index:
//
//   - probe: one statement looks each distinct key up in the pending_keys
//     primary key and reads the matched rows of txs by seq, so the cost
//     follows the list and the matches (about 0.6 µs a key on the server);
//   - scan: when the index has not many more entries than the list has keys,
//     one statement reads the whole index (k, seq) as two arrays, the keys
//     are matched here, and a second statement reads the matched rows, long
//     lists in parts on separate connections at once.
//
// Both statements pass the list as one binary int8[] and hide it from the
// planner behind a sub-select: given the array itself, PostgreSQL estimates
// `= ANY` element by element (about 1 µs each, 0.3 s for 250,000 keys, longer
// than running the statement), and with a constant array it may pick a plan
// that suits a few elements. Behind the sub-select it can only read the
// primary keys with the array, which is linear in the array on every version.
// Rows come back in binary and are decoded here, one allocation a row for
// its text, without pgx's per-value scan plans.

const (
	oidBool      = 16
	oidInt8      = 20
	oidInt4      = 23
	oidText      = 25
	oidInt8Array = 1016
)

// Thresholds of the choice above (measured on PostgreSQL 15, BENCHMARKS.md).
const (
	// scanMinKeys: shorter lists are always probed (a probe is cheap, and
	// sizing the index costs a round trip).
	scanMinKeys = 16 << 10
	// scanPerKey: the index is scanned when it has at most this many entries
	// per key of the list (a scanned entry costs about 0.2 µs on the server
	// and a little here, a probe 0.6 µs).
	scanPerKey = 2
	// entryBytes is about the heap size of one pending_keys row (tuple
	// header, two bigints, line pointer), so the table's size counts its
	// entries, dead ones included: a scan reads those too.
	entryBytes = 44
	// partMin is the fewest rows or keys worth a connection of their own.
	partMin = 8 << 10
	// maxRows caps the room made for an answer before its rows arrive.
	maxRows = 1 << 20
)

// probeSQL reads the rows whose index keys are in $1 (a transaction that
// several keys find is read once: the primary key lookup takes each seq
// once), each with the number of seqs matched, to size the answer.
const probeSQL = `WITH m AS MATERIALIZED (SELECT array_agg(p.seq) AS seqs FROM pending_keys p
	WHERE p.k = ANY((SELECT $1::bigint[])::bigint[]))
	SELECT ` + rowColumns + `, (SELECT cardinality(seqs) FROM m) FROM txs WHERE txs.seq = ANY((SELECT seqs FROM m)::bigint[])`

// bySeqsSQL reads the rows among seqs $1 (and the same count as probeSQL).
const bySeqsSQL = `SELECT ` + rowColumns + `, cardinality($1::bigint[]) FROM txs WHERE txs.seq = ANY((SELECT $1::bigint[])::bigint[])`

// scanSQL reads the whole pending index.
const scanSQL = `SELECT array_agg(k), array_agg(seq) FROM pending_keys`

// rowColumns are what the answer needs of a row (its chain is the query's),
// then whether it is a pending transaction of tenant $2 and chain $3. Both
// statements have no condition but the primary key, and that one is checked
// here: given a condition on the tenant, the planner can read an index of it
// and test each row against the whole list, quadratic in the list, which it
// does when the table has no statistics yet (a fresh or bulk-loaded table).
const rowColumns = `txs.seq, txs.id, txs.serialized, txs.hashes, txs.idx, txs.signatures, txs.withdrawal_id, txs.withdrawal_responses,
	txs.tenant = $2 AND txs.chain = $3 AND txs.tx_id IS NULL AND txs.deleted_at IS NULL AND txs.failed_at IS NULL`

// rowOIDs are the types of rowColumns and the count, checked before a row
// is decoded.
var rowOIDs = [...]uint32{oidInt8, oidText, oidText, oidText, oidInt8, oidText, oidText, oidText, oidBool, oidInt4}

// pendingByIDs is Pending with a non-empty signature list and no claim.
func (s *Store) pendingByIDs(ctx context.Context, q pending.PendingQuery) ([]pending.Tx, error) {
	// A long list's index read, when it is the cheaper way, runs while the
	// list is hashed and sorted: neither needs the other until the match.
	var index chan indexEntries
	if len(q.SignatureIDs) >= scanMinKeys {
		index = make(chan indexEntries, 1)
		go func() { index <- s.readIndexIfCheaper(ctx, len(q.SignatureIDs)) }()
	}
	ps := pending.NewProbeSet(q.Tenant, q.Chain, q.SignatureIDs)
	keys := ps.DistinctKeys()
	var e indexEntries
	if index != nil {
		if e = <-index; e.err != nil {
			return nil, e.err
		}
	}
	if !e.read {
		return s.inParts(ctx, ps, q, probeSQL, keys, partsFor(len(keys)))
	}
	seqs := e.match(ps.HasKey)
	if len(seqs) == 0 {
		return []pending.Tx{}, nil
	}
	return s.inParts(ctx, ps, q, bySeqsSQL, seqs, partsFor(len(seqs)))
}

// partsFor is how many connections read a list of n keys or seqs at once.
func partsFor(n int) int { return max(1, min(runtime.GOMAXPROCS(0), 4, n/partMin)) }

// indexEntries is the pending index as read (ks[i] is the key of seq ss[i]),
// when read.
type indexEntries struct {
	read   bool
	ks, ss []int64
	err    error
}

// readIndexIfCheaper reads the whole pending index when that costs less
// than probing it with n keys.
func (s *Store) readIndexIfCheaper(ctx context.Context, n int) indexEntries {
	var size int64
	if err := s.pool.QueryRow(ctx, `SELECT pg_relation_size('pending_keys')`).Scan(&size); err != nil {
		return indexEntries{err: fmt.Errorf("query pending txs: %w", err)}
	}
	if size/entryBytes > scanPerKey*int64(n) {
		return indexEntries{}
	}
	return s.readIndex(ctx)
}

// readIndex reads the whole pending index.
func (s *Store) readIndex(ctx context.Context) indexEntries {
	e := indexEntries{read: true}
	e.err = s.raw(ctx, scanSQL, nil, nil, func(vals [][]byte) error {
		var err1, err2 error
		e.ks, err1 = decodeInt8Array(vals[0])
		e.ss, err2 = decodeInt8Array(vals[1])
		return errors.Join(err1, err2)
	}, oidInt8Array, oidInt8Array)
	if e.err == nil && len(e.ks) != len(e.ss) {
		e.err = errors.New("keys and seqs differ in number")
	}
	if e.err != nil {
		e.err = fmt.Errorf("query pending txs: reading the pending index: %w", e.err)
	}
	return e
}

// match returns, sorted and distinct, the seqs of the entries whose key has
// reports as one of the query's (ProbeSet.HasKey, as the SQLite store's index
// in memory asks).
func (e indexEntries) match(has func(int64) bool) []int64 {
	var seqs []int64
	for i, k := range e.ks {
		if has(k) {
			seqs = append(seqs, e.ss[i])
		}
	}
	slices.Sort(seqs)
	return slices.Compact(seqs)
}

// inParts runs query (probeSQL or bySeqsSQL) over list, split into parts
// contiguous ranges read on separate connections at once, and returns the
// matched rows in seq order, each once.
func (s *Store) inParts(ctx context.Context, ps *pending.ProbeSet, q pending.PendingQuery, query string, list []int64, parts int) ([]pending.Tx, error) {
	// A seq finds at most one row, so the rows of a list of seqs fill one
	// array, each part its own range in place; a probe's rows are appended.
	var seqs []int64
	var txs []pending.Tx
	if query == bySeqsSQL {
		seqs, txs = make([]int64, len(list)), make([]pending.Tx, len(list))
	}
	ctx, cancel := context.WithCancel(ctx) // a failed part stops the others
	defer cancel()
	results := make([]rowSet, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(list)/parts, (p+1)*len(list)/parts
		if seqs != nil {
			results[p] = rowSet{seqs: seqs[lo:lo:hi], txs: txs[lo:lo:hi]}
		}
		if parts == 1 {
			errs[p] = s.readRows(ctx, ps, q, query, list[lo:hi], &results[p])
			break
		}
		wg.Go(func() {
			if errs[p] = s.readRows(ctx, ps, q, query, list[lo:hi], &results[p]); errs[p] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("query pending txs: %w", err)
	}
	var all rowSet
	if seqs == nil {
		for _, r := range results {
			all.seqs, all.txs = append(all.seqs, r.seqs...), append(all.txs, r.txs...)
		}
		return all.ordered(), nil
	}
	// Close the gaps that rows not found (no longer pending) left between
	// the parts' ranges; a copy onto itself is free.
	n := 0
	for _, r := range results {
		copy(seqs[n:], r.seqs)
		copy(txs[n:], r.txs)
		n += len(r.seqs)
	}
	clear(txs[n:])
	return rowSet{seqs: seqs[:n], txs: txs[:n]}.ordered(), nil
}

// rowSet is matched rows and their seqs, in the order read.
type rowSet struct {
	seqs []int64
	txs  []pending.Tx
}

// ordered returns the rows in seq order with repeats (a transaction found
// by two parts of a probed list) dropped. The plans read the primary key, so
// the rows are mostly in order already and the sort is skipped.
func (r rowSet) ordered() []pending.Tx {
	if slices.IsSorted(r.seqs) && !hasAdjacentRepeat(r.seqs) {
		if r.txs == nil {
			return []pending.Tx{}
		}
		return r.txs
	}
	order := make([]int, len(r.seqs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(r.seqs[a], r.seqs[b]) })
	out := make([]pending.Tx, 0, len(order))
	for j, i := range order {
		if j > 0 && r.seqs[i] == r.seqs[order[j-1]] {
			continue
		}
		out = append(out, r.txs[i])
	}
	return out
}

func hasAdjacentRepeat(s []int64) bool {
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return true
		}
	}
	return false
}

// readRows runs query for list and decodes into out its rows that are
// pending transactions of the query's tenant and chain, less those matched
// only by a key collision.
func (s *Store) readRows(ctx context.Context, ps *pending.ProbeSet, q pending.PendingQuery, query string, list []int64, out *rowSet) error {
	params := [][]byte{encodeInt8Array(list), []byte(q.Tenant), []byte(q.Chain)}
	return s.raw(ctx, query, params, []uint32{oidInt8Array, oidText, oidText}, func(vals [][]byte) error {
		if out.txs == nil && len(vals[9]) == 4 {
			// Room for every row at once: growing a slice of
			// transactions costs more than decoding them.
			n := min(int(int32(binary.BigEndian.Uint32(vals[9]))), maxRows)
			out.seqs, out.txs = make([]int64, 0, max(n, 0)), make([]pending.Tx, 0, max(n, 0))
		}
		if len(vals[8]) != 1 || vals[8][0] != 1 {
			return nil // another tenant's or chain's (a collision), or no longer pending
		}
		seq, t, err := decodeRow(vals)
		if err != nil {
			return err
		}
		t.Chain = q.Chain
		// A key collision, not a real match.
		if !ps.Matches(&t) {
			return nil
		}
		out.seqs = append(out.seqs, seq)
		out.txs = append(out.txs, t)
		return nil
	}, rowOIDs[:]...)
}

// raw runs query with binary parameters on a pooled connection and hands
// each row, in binary, to row, after checking that the columns are of the
// types want lists.
func (s *Store) raw(ctx context.Context, query string, params [][]byte, oids []uint32, row func([][]byte) error, want ...uint32) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	formats := make([]int16, len(params))
	for i := range formats {
		formats[i] = 1
	}
	rr := c.Conn().PgConn().ExecParams(ctx, query, params, oids, formats, []int16{1})
	var rowErr error
	checked := false
	for rowErr == nil && rr.NextRow() {
		if !checked {
			if rowErr = checkColumns(rr.FieldDescriptions(), want); rowErr != nil {
				break
			}
			checked = true
		}
		rowErr = row(rr.Values())
	}
	_, err = rr.Close()
	return errors.Join(rowErr, err)
}

func checkColumns(fds []pgconn.FieldDescription, want []uint32) error {
	if len(fds) != len(want) {
		return fmt.Errorf("the statement returned %d columns, not %d", len(fds), len(want))
	}
	for i, fd := range fds {
		if fd.DataTypeOID != want[i] || fd.Format != 1 {
			return fmt.Errorf("column %s is of type %d in format %d, not %d in binary", fd.Name, fd.DataTypeOID, fd.Format, want[i])
		}
	}
	return nil
}

// decodeRow decodes a row of rowColumns but the chain. Its text is copied
// once into one string that the fields share.
func decodeRow(vals [][]byte) (int64, pending.Tx, error) {
	var t pending.Tx
	seq, err := decodeInt8(vals[0])
	if err != nil {
		return 0, t, err
	}
	if vals[1] == nil || vals[2] == nil || vals[3] == nil {
		return 0, t, fmt.Errorf("pending tx %d has a NULL in a NOT NULL column", seq)
	}
	var b strings.Builder
	text := [...][]byte{vals[1], vals[2], vals[3], vals[5], vals[6]}
	n := 0
	for _, v := range text {
		n += len(v)
	}
	b.Grow(n)
	for _, v := range text {
		b.Write(v)
	}
	all := b.String()
	var f [len(text)]string
	for i, v := range text {
		f[i], all = all[:len(v)], all[len(v):]
	}
	t.ID, t.SerializedTransaction = f[0], f[1]
	if t.Hashes, err = decodeHashes(f[2]); err != nil {
		return 0, t, fmt.Errorf("stored hashes of %s: %w", t.ID, err)
	}
	if vals[4] != nil {
		idx, err := decodeInt8(vals[4])
		if err != nil {
			return 0, t, err
		}
		v := uint32(idx)
		t.Index = &v
	}
	if vals[5] != nil {
		if err := json.Unmarshal([]byte(f[3]), &t.Signatures); err != nil {
			return 0, t, fmt.Errorf("stored signatures of %s: %w", t.ID, err)
		}
	}
	t.WithdrawalID = f[4]
	if vals[7] != nil {
		t.WithdrawalResponses = json.RawMessage(slices.Clone(vals[7]))
	}
	return seq, t, nil
}

// decodeHashes decodes a stored hashes column: a JSON array of strings as
// json.Marshal writes it. The common form, strings with nothing escaped, is
// sliced out of s; anything else (an escape, a space) goes to json.Unmarshal,
// which also rejects what is not JSON.
func decodeHashes(s string) ([]string, error) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return unmarshalHashes(s)
	}
	body := s[1 : len(s)-1]
	if body == "" {
		return []string{}, nil
	}
	out := make([]string, 0, 1+strings.Count(body, `","`))
	for {
		if len(body) < 2 || body[0] != '"' {
			return unmarshalHashes(s)
		}
		end := 1
		for end < len(body) && body[end] != '"' {
			if c := body[end]; c == '\\' || c < 0x20 {
				return unmarshalHashes(s)
			}
			end++
		}
		if end == len(body) {
			return unmarshalHashes(s)
		}
		out = append(out, body[1:end])
		body = body[end+1:]
		if body == "" {
			return out, nil
		}
		if body[0] != ',' {
			return unmarshalHashes(s)
		}
		body = body[1:]
	}
}

func unmarshalHashes(s string) ([]string, error) {
	var h []string
	if err := json.Unmarshal([]byte(s), &h); err != nil {
		return nil, err
	}
	if h == nil {
		h = []string{}
	}
	return h, nil
}

func decodeInt8(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("a bigint of %d bytes", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// encodeInt8Array encodes a one-dimensional int8[] without NULLs in
// PostgreSQL's binary array format: dimensions, a NULL flag, the element
// type, length and lower bound, then each element with its length.
func encodeInt8Array(v []int64) []byte {
	if len(v) == 0 {
		return binary.BigEndian.AppendUint32(make([]byte, 8, 12), oidInt8) // no dimensions
	}
	b := make([]byte, 20, 20+12*len(v))
	binary.BigEndian.PutUint32(b[0:], 1)
	binary.BigEndian.PutUint32(b[8:], oidInt8)
	binary.BigEndian.PutUint32(b[12:], uint32(len(v)))
	binary.BigEndian.PutUint32(b[16:], 1)
	for _, x := range v {
		b = binary.BigEndian.AppendUint32(b, 8)
		b = binary.BigEndian.AppendUint64(b, uint64(x))
	}
	return b
}

// decodeInt8Array decodes what encodeInt8Array encodes (NULL: no elements),
// refusing anything else.
func decodeInt8Array(b []byte) ([]int64, error) {
	if b == nil {
		return nil, nil
	}
	if len(b) < 12 {
		return nil, errors.New("a truncated array")
	}
	ndim, elem := binary.BigEndian.Uint32(b[0:]), binary.BigEndian.Uint32(b[8:])
	if elem != oidInt8 {
		return nil, fmt.Errorf("an array of type %d, not bigint", elem)
	}
	if ndim == 0 && len(b) == 12 {
		return nil, nil
	}
	if ndim != 1 || len(b) < 20 {
		return nil, errors.New("not a one-dimensional array")
	}
	n := int(binary.BigEndian.Uint32(b[12:]))
	if n < 0 || (len(b)-20)/12 != n || (len(b)-20)%12 != 0 {
		return nil, errors.New("an array whose length does not match its size")
	}
	out := make([]int64, n)
	for i, p := 0, 20; i < n; i, p = i+1, p+12 {
		if binary.BigEndian.Uint32(b[p:]) != 8 {
			return nil, errors.New("an array element that is not a bigint")
		}
		out[i] = int64(binary.BigEndian.Uint64(b[p+4:]))
	}
	return out, nil
}
