package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/custoskms/custos/internal/approver"
)

// maxRows is the most rows one multi-row INSERT of a group writes. A group
// is written in chunks whose sizes are powers of two up to it, so that a
// handful of statement texts per table are compiled and kept, whatever the
// group sizes: one statement per row cost a batch of 128 more CPU in
// statement plumbing than in the writes themselves.
const maxRows = 64

// inChunks calls write with the bounds of consecutive chunks of n items,
// each a power of two of at most maxRows, largest first.
func inChunks(n int, write func(i, j int) error) error {
	for i := 0; i < n; {
		size := maxRows
		for size > n-i {
			size /= 2
		}
		if err := write(i, i+size); err != nil {
			return err
		}
		i += size
	}
	return nil
}

// valuesOf is "VALUES" and rows groups of cols placeholders.
func valuesOf(rows, cols int) string {
	one := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return "VALUES " + strings.Repeat(one+", ", rows-1) + one
}

// recordAll stores the requests of group in tx, in order, and sets each
// one's existed: whether it was stored before, by an earlier transaction
// or earlier in the group. That is what one INSERT … ON CONFLICT DO NOTHING
// per request found: within a statement the rows go in in order too, and
// those it does not insert are the ones stored before (RETURNING names the
// inserted ones, in no promised order). The need is fixed when a request
// is first seen: a rules change does not move a transaction operators are
// already deciding on.
func (s *Store) recordAll(ctx context.Context, tx *sql.Tx, group []*asked) error {
	return inChunks(len(group), func(i, j int) error {
		part := group[i:j]
		args := make([]any, 0, 9*len(part))
		for _, a := range part {
			now := ns(a.now)
			args = append(args, a.req.ID, a.req.Digest, a.req.Chain, a.body, a.nb, a.settle.Status(), now, now, now)
		}
		rows, err := s.hot.Query(ctx, tx, `INSERT INTO requests (id, digest, chain, body, need, status, first_seen, last_asked, updated_at) `+
			valuesOf(len(part), 9)+` ON CONFLICT (id, digest) DO NOTHING RETURNING id, digest`, args...)
		if err != nil {
			return err
		}
		inserted := make(map[[2]string]bool, len(part))
		for rows.Next() {
			var k [2]string
			if err := rows.Scan(&k[0], &k[1]); err != nil {
				rows.Close()
				return err
			}
			inserted[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, a := range part {
			k := [2]string{a.req.ID, a.req.Digest}
			// The first of the chunk's rows with its key went in.
			if a.existed = !inserted[k]; !a.existed {
				delete(inserted, k)
				continue
			}
			if _, err := s.hot.Exec(ctx, tx, `UPDATE requests SET last_asked = ? WHERE id = ? AND digest = ?`,
				ns(a.now), a.req.ID, a.req.Digest); err != nil {
				return err
			}
		}
		return nil
	})
}

// addHistories appends es to the history in tx, in order (seq follows the
// rows of each INSERT).
func (s *Store) addHistories(ctx context.Context, tx *sql.Tx, es []approver.HistoryEntry) error {
	return inChunks(len(es), func(i, j int) error {
		args := make([]any, 0, 9*(j-i))
		for _, e := range es[i:j] {
			args = append(args, e.Kind, ns(e.At), e.Operator, e.ID, e.Chain, e.Decision, e.Outcome, e.Reason, e.Remote)
		}
		_, err := s.hot.Exec(ctx, tx, `INSERT INTO history (kind, at, operator, id, chain, decision, outcome, reason, remote) `+
			valuesOf(j-i, 9), args...)
		return err
	})
}
