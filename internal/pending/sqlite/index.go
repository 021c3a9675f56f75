package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
)

// keyIndex is pending_keys held in memory, so that a long signature list is
// matched without an SQLite index probe per ID (which cost more than
// anything else in the query). It is only a filter: every candidate it gives
// is read back from txs with the pending, tenant and chain conditions and
// checked against the IDs themselves, so an entry it keeps too long costs a
// row read and nothing else. What it must never do is miss a pending
// transaction, hence:
//
//   - it is built from the table inside a group write (group.go), so that no
//     write of this process runs between the read and the moment later writes
//     start adding to it;
//   - Create adds a transaction's keys inside its write, before the commit,
//     and the ends (complete, delete, fail) remove them only once their
//     commit is done;
//   - a write of another process (nothing stops two processes from opening
//     one file) shows as a transaction seq the index has not seen: a seq
//     above the highest it knows, when a query starts or when this process
//     creates the next one. A failed create may give its seq back to
//     SQLite's counter, so it drops the index too. A dropped index is built
//     again by the next long query.
//
// It also knows, as long as no other process ended a pending transaction,
// exactly which transactions are pending: every commit that may end one
// (complete, delete, fail) counts once in pending_ends, and the index,
// built at one count, learns this process's counts and ends in the order of
// their commits. A query whose snapshot shows the count the index has
// reached (exact) needs no state read from SQLite; any other count
// (another process's end, or this process's own not yet learned) sends it
// to SQLite's.
//
// Memory: 16 bytes per pending signature ID in the sorted base; entries
// added or removed since the last merge sit beside it until they reach a
// quarter of it, and a merge briefly holds a second copy.
type keyIndex struct {
	mu     sync.RWMutex
	built  bool
	base   []keyEntry            // sorted by k, then seq
	added  []keyEntry            // since the last merge, in no order
	gone   map[keyEntry]struct{} // removed from the store since the last merge
	maxSeq int64                 // the highest transaction seq seen
	ends   int64                 // pending_ends.n the index has learned
	exact  bool                  // every end counted up to ends was this process's
	chunk  int                   // entries build reads at once (0: buildChunk)
	builds int                   // how many times it was built
}

// keyEntry is one pending_keys row.
type keyEntry struct{ k, seq int64 }

func compareEntries(a, b keyEntry) int {
	if c := cmp.Compare(a.k, b.k); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// indexMinKeys is the list length from which a query builds the index when
// there is none: shorter lists probe SQLite's index as well, and a store
// asked only those never holds the index in memory.
const indexMinKeys = 1024

// minMerge is the least number of changes that are merged into the base.
const minMerge = 4096

// created records a transaction inserted by the write in progress, with
// its keys; it runs inside that write, before its commit.
func (x *keyIndex) created(seq int64, keys []int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.built {
		return
	}
	if seq > x.maxSeq+1 {
		// A seq was taken that this process never saw: another process's.
		x.drop()
		return
	}
	x.maxSeq = max(x.maxSeq, seq)
	for _, k := range keys {
		x.added = append(x.added, keyEntry{k, seq})
	}
	x.mergeIfDue()
}

// ended records that the transaction seq left the pending index with its
// keys (none: the write ended none) in the commit counted n-th in
// pending_ends; it runs after that commit, in the order of the commits.
func (x *keyIndex) ended(seq int64, keys []int64, n int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.built {
		return
	}
	for _, k := range keys {
		x.gone[keyEntry{k, seq}] = struct{}{}
	}
	switch n {
	case x.ends: // another end of the same commit
	case x.ends + 1:
		x.ends = n
	default:
		// Another process ended some in between: which, the index cannot
		// know until it is built again.
		x.exact, x.ends = false, max(x.ends, n)
	}
	x.mergeIfDue()
}

// ready reports whether the index is there to ask.
func (x *keyIndex) ready() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.built
}

// doubt drops the index: the next long query builds it again.
func (x *keyIndex) doubt() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.drop()
}

func (x *keyIndex) drop() {
	x.built, x.base, x.added, x.gone, x.maxSeq, x.ends, x.exact = false, nil, nil, nil, 0, 0, false
}

func (x *keyIndex) mergeIfDue() {
	if n := len(x.added) + len(x.gone); n < minMerge || n < len(x.base)/4 {
		return
	}
	slices.SortFunc(x.added, compareEntries)
	merged := make([]keyEntry, 0, len(x.base)+len(x.added))
	i, j := 0, 0
	for i < len(x.base) || j < len(x.added) {
		var e keyEntry
		if j == len(x.added) || (i < len(x.base) && compareEntries(x.base[i], x.added[j]) <= 0) {
			e, i = x.base[i], i+1
		} else {
			e, j = x.added[j], j+1
		}
		if _, ok := x.gone[e]; ok || (len(merged) > 0 && merged[len(merged)-1] == e) {
			continue
		}
		merged = append(merged, e)
	}
	x.base, x.added = merged, x.added[:0]
	clear(x.gone)
}

// candidates returns, sorted and distinct, the seqs of the transactions
// that have one of keys (sorted; has tells whether a key is one of them),
// and whether the index could answer: it is there and has seen seen, the
// highest seq committed when the query started (an index that has not
// missed another process's write). exact reports that those are the
// transactions pending in the query's snapshot, which counted ends ends.
func (x *keyIndex) candidates(keys []int64, has func(int64) bool, seen, ends int64) (seqs []int64, ok, exact bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if !x.built || seen > x.maxSeq {
		return nil, false, false
	}
	// Both sides are sorted: step through the base by galloping from the
	// last match, so a short list against a long base costs a search per
	// key and a long list a walk of both.
	lo := 0
	for _, k := range keys {
		lo += sortSearch(x.base[lo:], k)
		for p := lo; p < len(x.base) && x.base[p].k == k; p++ {
			if _, ok := x.gone[x.base[p]]; !ok {
				seqs = append(seqs, x.base[p].seq)
			}
		}
	}
	for _, e := range x.added {
		if _, ok := x.gone[e]; !ok && has(e.k) {
			seqs = append(seqs, e.seq)
		}
	}
	slices.Sort(seqs)
	return slices.Compact(seqs), true, x.exact && ends == x.ends
}

// sortSearch is the position of the first entry of base whose key is not
// below k, searched from the start outwards and then by halves.
func sortSearch(base []keyEntry, k int64) int {
	hi := 1
	for hi < len(base) && base[hi-1].k < k {
		hi *= 2
	}
	lo := hi / 2
	hi = min(hi, len(base))
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if base[m].k < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// build reads pending_keys whole (in the group write tx, so no write of this
// process runs beside it) and installs it, unless an index that has seen
// the seq seen is there already.
func (x *keyIndex) build(ctx context.Context, tx *sql.Tx, seen int64) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.built && x.maxSeq >= seen {
		return nil
	}
	var n, maxSeq, ends int64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM pending_keys), coalesce((SELECT max(seq) FROM txs), 0), (SELECT n FROM pending_ends)`).Scan(&n, &maxSeq, &ends); err != nil {
		return err
	}
	base := make([]keyEntry, 0, n)
	// In chunks, each of two aggregated columns, so that the entries do not
	// cross the driver one by one, nor a million of them at once as text.
	// A chunk starts after the greatest entry of the one before (seqs are
	// positive, so the first starts before every entry).
	from := keyEntry{math.MinInt64, math.MinInt64}
	chunk := cmp.Or(x.chunk, buildChunk)
	for {
		var (
			got    int
			ks, ss string
		)
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(group_concat(k), ''), coalesce(group_concat(seq), '')
			FROM (SELECT k, seq FROM pending_keys WHERE (k, seq) > (?1, ?2) ORDER BY k, seq LIMIT ?3)`,
			from.k, from.seq, chunk).Scan(&got, &ks, &ss); err != nil {
			return err
		}
		for ks != "" {
			var e keyEntry
			var err1, err2 error
			e.k, ks, err1 = nextInt(ks)
			e.seq, ss, err2 = nextInt(ss)
			if err1 != nil || err2 != nil {
				return fmt.Errorf("reading the pending index: %w", errors.Join(err1, err2))
			}
			base = append(base, e)
			if compareEntries(e, from) > 0 {
				from = e
			}
		}
		if got < chunk {
			break
		}
	}
	if !slices.IsSortedFunc(base, compareEntries) {
		slices.SortFunc(base, compareEntries)
	}
	x.built, x.base, x.added, x.gone, x.maxSeq, x.ends, x.exact = true, base, nil, map[keyEntry]struct{}{}, maxSeq, ends, true
	x.builds++
	return nil
}

// buildChunk is how many entries build reads in one statement.
const buildChunk = 1 << 15
