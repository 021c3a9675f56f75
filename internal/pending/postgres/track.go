package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/custoskms/custos/internal/pending"
)

// stateColumns are what Get and Transactions read before txColumns to tell
// a transaction's state and outcome (stateRow scans them).
const stateColumns = `txs.tx_data IS NOT NULL, txs.failed_at IS NOT NULL, coalesce(txs.fail_state, ''), coalesce(txs.track_state, ''),
	txs.block_number, txs.confirmations, coalesce(txs.fee, ''), coalesce(txs.track_error, ''), txs.rebroadcasts, txs.final_at,
	coalesce(txs.state_at, txs.created_at), coalesce(txs.replaced_by, '')`

type stateRow struct {
	signed, failed        bool
	failState, trackState string
	block, confs          *int64
	fee, trackErr         string
	rebroadcasts          int
	finalAt               *time.Time
	changedAt             time.Time
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
		Rebroadcasts: r.rebroadcasts, FinalAt: r.finalAt, ReplacedBy: r.replacedBy}
}

func u64(n *int64) *uint64 {
	if n == nil {
		return nil
	}
	v := uint64(*n)
	return &v
}

func i64(p *uint64) *int64 {
	if p == nil {
		return nil
	}
	v := int64(*p)
	return &v
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// claimTrackingSQL leases to $1 for $2 milliseconds up to $3 tracked
// transactions whose check is due, most overdue first, by the database's
// clock (one never checked once its chain's settle time, $4 by chain code
// as JSON milliseconds, else $5, passed its broadcast); FOR UPDATE SKIP LOCKED passes over rows another replica is
// claiming at this moment, so no two claims hold one transaction.
const claimTrackingSQL = `WITH pick AS (
		SELECT seq FROM txs WHERE track_next_at IS NOT NULL AND track_next_at <= now()
		  AND (lease_until IS NULL OR lease_until <= now())
		  AND (track_checks > 0 OR track_next_at + coalesce(($4::jsonb ->> chain)::bigint, $5) * interval '1 millisecond' <= now())
		ORDER BY track_next_at LIMIT $3
		FOR UPDATE SKIP LOCKED)
	UPDATE txs SET lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond'
	FROM pick WHERE txs.seq = pick.seq
	RETURNING txs.tenant, txs.id, txs.chain, coalesce((SELECT k.testnet FROM api_keys k WHERE k.id = txs.tenant), false),
		txs.tx_id, coalesce(txs.tx_data, ''), txs.track_checks, txs.block_number, txs.confirmations,
		coalesce(txs.fee, ''), coalesce(txs.track_error, ''), txs.rebroadcasts`

// ClaimTracking implements pending.TrackStore.
func (s *Store) ClaimTracking(ctx context.Context, c pending.TrackClaim) ([]pending.Tracked, error) {
	return leaseClaim(ctx, s, "claim tracking", claimTrackingSQL, c.Owner, c.Lease, c.Max, []any{c.SettleJSON(), max(0, c.Settle.Milliseconds())}, func(r pgx.CollectableRow) (pending.Tracked, error) {
		var (
			tr           pending.Tracked
			block, confs *int64
		)
		err := r.Scan(&tr.Tenant, &tr.ID, &tr.Chain, &tr.Testnet, &tr.TxID, &tr.TxData, &tr.Checks,
			&block, &confs, &tr.Outcome.Fee, &tr.Outcome.Error, &tr.Outcome.Rebroadcasts)
		tr.Outcome.BlockNumber, tr.Outcome.Confirmations = u64(block), u64(confs)
		return tr, err
	})
}

// RecordOutcome implements pending.TrackStore. The row lock taken by the
// first statement orders the event after the transaction's earlier ones.
func (s *Store) RecordOutcome(ctx context.Context, owner string, u pending.OutcomeUpdate) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		final := u.State.Final()
		var trackState *string
		if final {
			trackState = nullString(string(u.State))
		}
		var (
			seq          int64
			txID         string
			rebroadcasts int
		)
		err := tx.QueryRow(ctx, `UPDATE txs SET track_state = coalesce($4, track_state),
			final_at = CASE WHEN $5 THEN now() END, state_at = CASE WHEN $5 THEN now() ELSE state_at END,
			track_next_at = CASE WHEN $5 OR $6 THEN NULL ELSE now() + $7 * interval '1 millisecond' END,
			track_checks = track_checks + 1, block_number = $8, confirmations = $9, fee = $10, track_error = $11,
			rebroadcasts = rebroadcasts + $12, replaced_by = $13, lease_owner = NULL, lease_until = NULL
			WHERE id = $1 AND tenant = $2 AND lease_owner = $3 AND track_next_at IS NOT NULL
			RETURNING seq, tx_id, rebroadcasts`,
			u.ID, u.Tenant, owner, trackState, final, u.Stop, u.RetryIn.Milliseconds(), i64(u.BlockNumber), i64(u.Confirmations),
			nullString(u.Fee), nullString(u.Error), b2i(u.Rebroadcast), nullString(u.ReplacedBy)).Scan(&seq, &txID, &rebroadcasts)
		if errors.Is(err, pgx.ErrNoRows) {
			return pending.ErrNotLeased
		}
		if err != nil {
			return err
		}
		typ := pending.OutcomeEvent(u.State)
		if !final || typ == "" {
			return nil
		}
		o := pending.Outcome{BlockNumber: u.BlockNumber, Confirmations: u.Confirmations, Fee: u.Fee, Error: u.Error,
			ReplacedBy: u.ReplacedBy, Rebroadcasts: rebroadcasts}
		return emit(ctx, tx, u.Tenant, seq, u.ID, typ, pending.OutcomeBody(typ, u.ID, txID, u.State, o))
	})
	if err != nil && !errors.Is(err, pending.ErrNotLeased) {
		return fmt.Errorf("record outcome: %w", err)
	}
	return err
}

// Rivals implements pending.TrackStore: the group's first transaction and
// its replacements (txs_replaces), without id itself.
func (s *Store) Rivals(ctx context.Context, tenant, id string) ([]pending.Rival, error) {
	rows, err := s.pool.Query(ctx, `WITH g AS (SELECT coalesce(replaces, id) AS root FROM txs WHERE tenant = $1 AND id = $2)
		SELECT t.id, t.tx_id FROM txs t, g WHERE t.tenant = $1 AND (t.id = g.root OR t.replaces = g.root)
		AND t.id <> $2 AND t.tx_id IS NOT NULL AND t.deleted_at IS NULL ORDER BY t.seq`, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("rivals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pending.Rival, error) {
		var v pending.Rival
		return v, r.Scan(&v.ID, &v.TxID)
	})
	if err != nil {
		return nil, fmt.Errorf("rivals: %w", err)
	}
	return out, nil
}

// Transactions implements pending.TrackStore: a range of txs_changed, the
// state filtered by pending.StateSQL on the rows of that range.
func (s *Store) Transactions(ctx context.Context, f pending.TxFilter) ([]pending.Listed, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+stateColumns+`, `+txColumns+` FROM txs
		WHERE tenant = $1 AND deleted_at IS NULL AND state_at >= $2 AND ($3 = '' OR (`+pending.StateSQL+`) = $3)
		ORDER BY state_at, seq LIMIT $4`, f.Tenant, f.Since, string(f.Status), max(1, f.Limit))
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
		out = append(out, pending.Listed{Tx: t, ChangedAt: st.changedAt})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list transactions: %w", err)
	}
	return out, nil
}
