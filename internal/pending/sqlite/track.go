package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

// stateColumns are what Get and Transactions read after txColumns to tell a
// transaction's state and outcome (stateRow scans them).
const stateColumns = `tx_data IS NOT NULL, failed_at IS NOT NULL, coalesce(fail_state, ''), coalesce(track_state, ''),
	block_number, confirmations, coalesce(fee, ''), coalesce(track_error, ''), rebroadcasts, final_at, coalesce(state_at, created_at),
	coalesce(replaced_by, '')`

type stateRow struct {
	signed, failed        bool
	failState, trackState string
	block, confs          sql.NullInt64
	fee, trackErr         string
	rebroadcasts          int
	finalAt               sql.NullInt64
	changedAt             int64
	replacedBy            string
}

func (r *stateRow) dest() []any {
	return []any{&r.signed, &r.failed, &r.failState, &r.trackState, &r.block, &r.confs, &r.fee, &r.trackErr,
		&r.rebroadcasts, &r.finalAt, &r.changedAt, &r.replacedBy}
}

// fill sets t's state and outcome from the row.
func (r *stateRow) fill(t *pending.Tx) {
	t.State = pending.StateOf(r.trackState, t.TxID, r.signed, r.failed, r.failState)
	t.Outcome = pending.Outcome{BlockNumber: u64(r.block), Confirmations: u64(r.confs), Fee: r.fee, Error: r.trackErr,
		Rebroadcasts: r.rebroadcasts, ReplacedBy: r.replacedBy}
	if r.finalAt.Valid {
		at := time.UnixMilli(r.finalAt.Int64)
		t.Outcome.FinalAt = &at
	}
}

func u64(n sql.NullInt64) *uint64 {
	if !n.Valid {
		return nil
	}
	v := uint64(n.Int64)
	return &v
}

func nullU64(p *uint64) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

// ClaimTracking implements pending.TrackStore. SQLite runs one writer at a
// time, so the selection and the lease are one step for every process.
func (s *Store) ClaimTracking(ctx context.Context, c pending.TrackClaim) ([]pending.Tracked, error) {
	if err := pending.CheckLeaseClaim("claim tracking", c.Owner, c.Lease, c.Max); err != nil {
		return nil, err
	}
	var out []pending.Tracked
	err := s.write(ctx, "claim tracking", func(ctx context.Context, tx *sql.Tx) error {
		at := now()
		// A never-checked row's track_next_at is its broadcast: it waits
		// its chain's settle time (c.SettleBy, else c.Settle) past it.
		rows, err := tx.QueryContext(ctx, `UPDATE txs SET lease_owner = ?1, lease_until = ?2 WHERE seq IN (
			SELECT seq FROM txs WHERE track_next_at IS NOT NULL AND track_next_at <= ?3 AND (lease_until IS NULL OR lease_until <= ?3)
			  AND (track_checks > 0 OR track_next_at + coalesce(json_extract(?5, '$."' || chain || '"'), ?6) <= ?3)
			ORDER BY track_next_at LIMIT ?4) RETURNING seq`, c.Owner, at+max(1, c.Lease.Milliseconds()), at, c.Max,
			c.SettleJSON(), max(0, c.Settle.Milliseconds()))
		seqs, err := keysOf[int64](rows, err)
		if err != nil || len(seqs) == 0 {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT t.tenant, t.id, t.chain, coalesce(k.testnet, 0), t.tx_id, coalesce(t.tx_data, ''),
			t.track_checks, t.block_number, t.confirmations, coalesce(t.fee, ''), coalesce(t.track_error, ''), t.rebroadcasts
			FROM txs t LEFT JOIN api_keys k ON k.id = t.tenant
			WHERE t.seq IN (?`+strings.Repeat(",?", len(seqs)-1)+`) ORDER BY t.track_next_at, t.seq`, seqs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				tr           pending.Tracked
				block, confs sql.NullInt64
			)
			if err := rows.Scan(&tr.Tenant, &tr.ID, &tr.Chain, &tr.Testnet, &tr.TxID, &tr.TxData, &tr.Checks,
				&block, &confs, &tr.Outcome.Fee, &tr.Outcome.Error, &tr.Outcome.Rebroadcasts); err != nil {
				return err
			}
			tr.Outcome.BlockNumber, tr.Outcome.Confirmations = u64(block), u64(confs)
			out = append(out, tr)
		}
		return rows.Err()
	})
	return out, err
}

// RecordOutcome implements pending.TrackStore.
func (s *Store) RecordOutcome(ctx context.Context, owner string, u pending.OutcomeUpdate) error {
	return s.write(ctx, "record outcome", func(ctx context.Context, tx *sql.Tx) error {
		var (
			seq          int64
			txID         string
			rebroadcasts int
		)
		err := s.hot.QueryRow(ctx, tx, `SELECT seq, tx_id, rebroadcasts FROM txs WHERE id = ? AND tenant = ? AND lease_owner = ?
			AND track_next_at IS NOT NULL`, u.ID, u.Tenant, owner).Scan(&seq, &txID, &rebroadcasts)
		if errors.Is(err, sql.ErrNoRows) {
			return pending.ErrNotLeased
		}
		if err != nil {
			return err
		}
		at := now()
		final := u.State.Final()
		var trackState, finalAt, stateAt, nextAt any
		if final {
			trackState, finalAt, stateAt = string(u.State), at, at
		} else if !u.Stop {
			nextAt = at + u.RetryIn.Milliseconds()
		}
		if u.Rebroadcast {
			rebroadcasts++
		}
		if _, err := s.hot.Exec(ctx, tx, `UPDATE txs SET track_state = coalesce(?, track_state), final_at = ?, state_at = coalesce(?, state_at),
			track_next_at = ?, track_checks = track_checks + 1, block_number = ?, confirmations = ?, fee = ?, track_error = ?,
			rebroadcasts = ?, replaced_by = ?, lease_owner = NULL, lease_until = NULL WHERE seq = ?`,
			trackState, finalAt, stateAt, nextAt, nullU64(u.BlockNumber), nullU64(u.Confirmations), nullString(u.Fee),
			nullString(u.Error), rebroadcasts, nullString(u.ReplacedBy), seq); err != nil {
			return err
		}
		typ := pending.OutcomeEvent(u.State)
		if !final || typ == "" {
			return nil
		}
		o := pending.Outcome{BlockNumber: u.BlockNumber, Confirmations: u.Confirmations, Fee: u.Fee, Error: u.Error,
			ReplacedBy: u.ReplacedBy, Rebroadcasts: rebroadcasts}
		return s.emit(ctx, tx, u.Tenant, seq, u.ID, typ, pending.OutcomeBody(typ, u.ID, txID, u.State, o))
	})
}

// Rivals implements pending.TrackStore: the group's first transaction and
// its replacements (txs_replaces), without id itself.
func (s *Store) Rivals(ctx context.Context, tenant, id string) ([]pending.Rival, error) {
	rows, err := s.db.QueryContext(ctx, `WITH g AS (SELECT coalesce(replaces, id) AS root FROM txs WHERE tenant = ?1 AND id = ?2)
		SELECT t.id, t.tx_id FROM txs t, g WHERE t.tenant = ?1 AND (t.id = g.root OR t.replaces = g.root)
		AND t.id <> ?2 AND t.tx_id IS NOT NULL AND t.deleted_at IS NULL ORDER BY t.seq`, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("rivals: %w", err)
	}
	defer rows.Close()
	var out []pending.Rival
	for rows.Next() {
		var r pending.Rival
		if err := rows.Scan(&r.ID, &r.TxID); err != nil {
			return nil, fmt.Errorf("rivals: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Transactions implements pending.TrackStore: a range of txs_changed, the
// state filtered by pending.StateSQL on the rows of that range.
func (s *Store) Transactions(ctx context.Context, f pending.TxFilter) ([]pending.Listed, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+txColumns+`, `+stateColumns+` FROM txs
		WHERE tenant = ?1 AND deleted_at IS NULL AND state_at >= ?2 AND (?3 = '' OR (`+pending.StateSQL+`) = ?3)
		ORDER BY state_at, seq LIMIT ?4`, f.Tenant, f.Since.UnixMilli(), string(f.Status), max(1, f.Limit))
	if err != nil {
		return nil, fmt.Errorf("list transactions: %w", err)
	}
	defer rows.Close()
	out := []pending.Listed{}
	for rows.Next() {
		var st stateRow
		t, err := scanTx(rows, st.dest()...)
		if err != nil {
			return nil, fmt.Errorf("list transactions: %w", err)
		}
		st.fill(&t)
		out = append(out, pending.Listed{Tx: t, ChangedAt: time.UnixMilli(st.changedAt)})
	}
	return out, rows.Err()
}
