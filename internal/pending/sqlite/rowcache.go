package sqlite

import (
	"context"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/custoskms/custos/internal/pending"
)

// A signer asks for the same pending transactions again and again (every
// poll names its whole wallet), and reading a row's answer columns out of
// SQLite cost more than anything else in a long query: a B-tree seek, a page
// read and eight column calls, each behind the connection's mutex. What a
// row answers never changes once it is written, so the store keeps the
// answers it has read, by seq, with the row's tenant (compared with the
// query's, as its chain is). Whether a row is still pending is not kept
// here: the index in memory knows it when no other process ended a
// transaction (keyIndex.candidates' exact), and SQLite is asked otherwise.
//
// That rests on two facts the schema guarantees:
//   - a seq names one row forever: seq is AUTOINCREMENT, so SQLite never
//     gives a committed row's seq to another, and rows are never deleted;
//   - a row's answer columns are never updated (a trigger refuses it,
//     migrations.go).
//
// A seq the cache holds is one this process read from a committed row, so
// a row another process wrote, or a create that rolled back and gave its seq
// back, can never be mistaken for it.

// rowCacheLimit bounds what the cache holds, in bytes of heap as rowCost
// counts them: 50,000 pending ETH transactions of Tatum's shape take about
// 40 MB.
const rowCacheLimit = 48 << 20

// rowOverhead is a cached row's heap beside its strings: the transaction
// and its map entry.
const rowOverhead = int(unsafe.Sizeof(pending.Tx{})) + 64

// rowCache holds pending rows' answers by seq.
type rowCache struct {
	mu    sync.RWMutex
	rows  map[int64]*cachedRow // the answers are never changed
	bytes int                  // rowCost of every entry
	limit int                  // of bytes
}

// cachedRow is a pending row's answer with its tenant (t.Chain is its chain).
type cachedRow struct {
	tenant string
	t      *pending.Tx
	used   atomic.Bool // answered since the cache last made room
}

// rowCost is about the heap a cached row holds (measured within 10% of
// it): what its strings hold, and their headers in slices.
func rowCost(t *pending.Tx) int {
	n := rowOverhead + len(t.ID) + len(t.SerializedTransaction) + len(t.WithdrawalID) + len(t.WithdrawalResponses)
	for _, h := range t.Hashes {
		n += 16 + len(h)
	}
	for _, sg := range t.Signatures {
		n += 32 + len(sg.ID)
	}
	if t.Index != nil {
		n += 8
	}
	return n
}

// lookup splits live (sorted seqs of pending rows) into the answers the cache
// holds and the seqs it does not.
// A row the cache holds for another tenant or chain is in neither.
func (c *rowCache) lookup(tenant, chain string, live []int64) (hits []seqTx, misses []int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	hits = make([]seqTx, 0, len(live))
	for _, seq := range live {
		r, ok := c.rows[seq]
		switch {
		case !ok:
			misses = append(misses, seq)
		case r.tenant == tenant && r.t.Chain == chain:
			r.used.Store(true)
			hits = append(hits, seqTx{seq, r.t})
		}
	}
	return hits, misses
}

// add keeps rows read from SQLite; when the cache is full it first makes
// room down to three quarters of its limit (makeRoom).
func (c *rowCache) add(tenant string, rows []seqTx) {
	if len(rows) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rows == nil {
		c.rows = make(map[int64]*cachedRow, len(rows))
	}
	for i := range rows {
		r := &rows[i]
		if _, ok := c.rows[r.seq]; ok {
			continue
		}
		cost := rowCost(r.tx)
		if c.bytes+cost > c.limit {
			c.makeRoom()
		}
		c.rows[r.seq] = &cachedRow{tenant: tenant, t: r.tx}
		c.bytes += cost
	}
}

// makeRoom drops entries down to three quarters of the limit, those not
// answered since the last time first (a second chance, in the map's own
// order): the rows the signers keep asking for stay, and those of
// transactions another process ended, which nothing answers, go.
func (c *rowCache) makeRoom() {
	for pass := range 2 {
		for seq, r := range c.rows {
			if c.bytes <= c.limit*3/4 {
				return
			}
			if pass == 0 && r.used.Swap(false) {
				continue
			}
			c.bytes -= rowCost(r.t)
			delete(c.rows, seq)
		}
	}
}

// drop forgets the rows of seqs, which are no longer pending.
func (c *rowCache) drop(seqs ...int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, seq := range seqs {
		if r, ok := c.rows[seq]; ok {
			c.bytes -= rowCost(r.t)
			delete(c.rows, seq)
		}
	}
}

// pendingBySeqs reads the pending transactions among seqs (sorted
// candidates from the index in memory) that match the query. When the
// candidates are exactly the pending transactions, their answers come from
// the cache, and SQLite reads only those it does not hold yet (under the
// query's conditions: a candidate of this process's create not yet
// committed is not there); else SQLite reads them all.
func (s *Store) pendingBySeqs(ctx context.Context, ps *pending.ProbeSet, q pending.PendingQuery, seqs []int64, exact bool) ([]seqTx, error) {
	if !exact {
		read, err := s.pendingByKeys(ctx, ps, q, pendingBySeqsSQL, seqs)
		if err == nil {
			s.rows.add(q.Tenant, read)
		}
		return read, err
	}
	hits, misses := s.rows.lookup(q.Tenant, q.Chain, seqs)
	out := hits[:0]
	for _, r := range hits {
		if ps.Matches(r.tx) {
			out = append(out, r)
		}
	}
	if len(misses) == 0 {
		return out, nil
	}
	read, err := s.pendingByKeys(ctx, ps, q, pendingBySeqsSQL, misses)
	if err != nil {
		return nil, err
	}
	s.rows.add(q.Tenant, read)
	return mergeSeqTxs(out, read), nil
}

// mergeSeqTxs merges two lists in seq order.
func mergeSeqTxs(a, b []seqTx) []seqTx {
	if len(b) == 0 {
		return a
	}
	out := make([]seqTx, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].seq < b[0].seq {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}
