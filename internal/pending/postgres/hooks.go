package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/custoskms/custos/internal/pending"
)

// Delivery states of the deliveries table.
const (
	deliveryDue       = 0
	deliveryDelivered = 1
	deliveryDead      = 2
)

// emit adds an event (body) about the transaction at txSeq to the outbox, with one
// delivery per subscription of tenant for typ, inside tx: the event commits
// or rolls back with the change it reports. The caller holds the
// transaction's row lock, so the events of one transaction are numbered in
// the order their changes commit. A delivery's id is the event's and the
// subscription's joined by "-". A tenant without such a subscription costs
// one indexed read and gets no event.
func emit(ctx context.Context, tx pgx.Tx, tenant string, txSeq int64, pendingID, typ string, body []byte) error {
	_, err := tx.Exec(ctx, `WITH subs AS (
			SELECT id, url FROM subscriptions WHERE tenant = $1 AND type = $2),
		ev AS (
			INSERT INTO events (id, tenant, tx_seq, pending_id, type, body, created_at)
			SELECT $3, $1, $4, $5, $2, $6, now() WHERE EXISTS (SELECT 1 FROM subs) RETURNING n)
		INSERT INTO deliveries (id, event_n, sub_id, tenant, tx_seq, url, next_at)
		SELECT $3 || '-' || subs.id, ev.n, subs.id, $1, $4, subs.url, now() FROM ev, subs`,
		tenant, typ, pending.NewID(), txSeq, pendingID, string(body))
	return err
}

// CreateSubscription implements pending.HookStore.
func (s *Store) CreateSubscription(ctx context.Context, tenant, typ, url string) (pending.Subscription, error) {
	sub := pending.Subscription{ID: pending.NewID(), Type: typ, URL: url}
	err := s.pool.QueryRow(ctx, `INSERT INTO subscriptions (id, tenant, type, url, created_at)
		VALUES ($1, $2, $3, $4, date_trunc('milliseconds', now())) RETURNING created_at`, sub.ID, tenant, typ, url).Scan(&sub.CreatedAt)
	if err != nil {
		return pending.Subscription{}, fmt.Errorf("create subscription: %w", err)
	}
	return sub, nil
}

// Subscriptions implements pending.HookStore.
func (s *Store) Subscriptions(ctx context.Context, tenant string) ([]pending.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, type, url, created_at FROM subscriptions WHERE tenant = $1 ORDER BY created_at, id`, tenant)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pending.Subscription, error) {
		var sub pending.Subscription
		err := r.Scan(&sub.ID, &sub.Type, &sub.URL, &sub.CreatedAt)
		return sub, err
	})
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	if out == nil {
		out = []pending.Subscription{}
	}
	return out, nil
}

// DeleteSubscription implements pending.HookStore.
func (s *Store) DeleteSubscription(ctx context.Context, tenant, id string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM subscriptions WHERE id = $1 AND tenant = $2`, id, tenant)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return pending.ErrSubscriptionNotFound
		}
		_, err = tx.Exec(ctx, `DELETE FROM deliveries WHERE sub_id = $1 AND state = $2`, id, deliveryDue)
		return err
	})
	if err != nil && !errors.Is(err, pending.ErrSubscriptionNotFound) {
		return fmt.Errorf("delete subscription: %w", err)
	}
	return err
}

// SetHMACSecret implements pending.HookStore.
func (s *Store) SetHMACSecret(ctx context.Context, tenant, secret string) error {
	var err error
	if secret == "" {
		_, err = s.pool.Exec(ctx, `DELETE FROM hook_secrets WHERE tenant = $1`, tenant)
	} else {
		_, err = s.pool.Exec(ctx, `INSERT INTO hook_secrets (tenant, secret) VALUES ($1, $2)
			ON CONFLICT (tenant) DO UPDATE SET secret = excluded.secret`, tenant, secret)
	}
	if err != nil {
		return fmt.Errorf("set webhook secret: %w", err)
	}
	return nil
}

// claimDeliveriesSQL leases to $1 for $2 milliseconds up to $3 due
// deliveries, oldest due first, by the database's clock. A delivery waits
// while an earlier event of its transaction is still to be delivered to the
// same URL. FOR UPDATE SKIP LOCKED passes over rows another replica
// is claiming at this moment, so no two claims hold one delivery.
//
// The wait is written as "d is its transaction's and URL's first undelivered event"
// (a scalar min) rather than as NOT EXISTS of an earlier one: the two keep
// the same deliveries, but PostgreSQL turns NOT EXISTS into an anti-join,
// and the generic plan of this cached statement, made while the outbox
// looked nearly empty, joined every due delivery against every other one
// (a growing backlog cost 100–300 ms a claim, and the worker fell behind
// by seconds). A scalar subquery with an aggregate is never made a join: it
// runs once per candidate as one look-up in deliveries_order.
const claimDeliveriesSQL = `WITH pick AS (
		SELECT d.id FROM deliveries d
		WHERE d.state = 0 AND d.next_at <= now() AND (d.lease_until IS NULL OR d.lease_until <= now())
		  AND d.event_n = (SELECT min(p.event_n) FROM deliveries p WHERE p.state = 0 AND p.tx_seq = d.tx_seq AND p.url = d.url)
		ORDER BY d.next_at, d.event_n LIMIT $3
		FOR UPDATE SKIP LOCKED)
	UPDATE deliveries d SET lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond'
	FROM pick, events e WHERE d.id = pick.id AND e.n = d.event_n
	RETURNING d.id, e.id, d.tenant, d.sub_id, e.pending_id, e.type, e.body, d.url,
		coalesce((SELECT h.secret FROM hook_secrets h WHERE h.tenant = d.tenant), ''), d.attempts, e.created_at, e.n`

// ClaimDeliveries implements pending.HookStore.
func (s *Store) ClaimDeliveries(ctx context.Context, c pending.DeliveryClaim) ([]pending.Delivery, error) {
	return leaseClaim(ctx, s, "claim deliveries", claimDeliveriesSQL, c.Owner, c.Lease, c.Max, nil, func(r pgx.CollectableRow) (pending.Delivery, error) {
		var (
			d    pending.Delivery
			body string
		)
		err := r.Scan(&d.ID, &d.EventID, &d.Tenant, &d.SubscriptionID, &d.PendingID, &d.Type, &body, &d.URL,
			&d.Secret, &d.Attempts, &d.CreatedAt, &d.Order)
		d.Body = []byte(body)
		return d, err
	})
}

// leaseClaim runs a claim's statement (claimSQL: owner $1, lease in
// milliseconds $2, max $3, then extra from $4) and scans what it leased;
// what names the claim.
func leaseClaim[T any](ctx context.Context, s *Store, what, claimSQL, owner string, lease time.Duration, most int, extra []any,
	scan func(pgx.CollectableRow) (T, error)) ([]T, error) {
	if err := pending.CheckLeaseClaim(what, owner, lease, most); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, claimSQL, append([]any{owner, max(1, lease.Milliseconds()), most}, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Delivered implements pending.HookStore.
func (s *Store) Delivered(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE deliveries SET state = $1, done_at = now(), lease_owner = NULL, lease_until = NULL
		WHERE id = ANY($2) AND state = $3`, deliveryDelivered, ids, deliveryDue)
	if err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}

// DeliveryFailed implements pending.HookStore.
func (s *Store) DeliveryFailed(ctx context.Context, owner, id, reason string, retryIn time.Duration, dead bool) error {
	state := deliveryDue
	if dead {
		state = deliveryDead
	}
	_, err := s.pool.Exec(ctx, `UPDATE deliveries SET attempts = attempts + 1, last_error = $1,
		next_at = now() + $2 * interval '1 millisecond', state = $3,
		done_at = CASE WHEN $7 THEN now() END, lease_owner = NULL, lease_until = NULL
		WHERE id = $4 AND state = $5 AND lease_owner = $6`,
		reason, retryIn.Milliseconds(), state, id, deliveryDue, owner, dead)
	if err != nil {
		return fmt.Errorf("record failed delivery: %w", err)
	}
	return nil
}

// DeadLetters implements pending.HookStore.
func (s *Store) DeadLetters(ctx context.Context, tenant string) ([]pending.DeadLetter, error) {
	rows, err := s.pool.Query(ctx, `SELECT d.id, e.id, d.sub_id, e.pending_id, e.type, d.url, e.body, d.attempts,
		coalesce(d.last_error, ''), e.created_at, d.done_at
		FROM deliveries d JOIN events e ON e.n = d.event_n WHERE d.tenant = $1 AND d.state = $2 ORDER BY d.event_n, d.id`, tenant, deliveryDead)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pending.DeadLetter, error) {
		var (
			l    pending.DeadLetter
			body string
		)
		err := r.Scan(&l.ID, &l.EventID, &l.SubscriptionID, &l.PendingID, &l.Type, &l.URL, &body, &l.Attempts,
			&l.LastError, &l.CreatedAt, &l.FailedAt)
		l.Body = []byte(body)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	if out == nil {
		out = []pending.DeadLetter{}
	}
	return out, nil
}

// RetryDeadLetter implements pending.HookStore.
func (s *Store) RetryDeadLetter(ctx context.Context, tenant, id string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET state = $1, attempts = 0, next_at = now(), done_at = NULL
		WHERE id = $2 AND tenant = $3 AND state = $4`, deliveryDue, id, tenant, deliveryDead)
	if err != nil {
		return fmt.Errorf("retry dead letter: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return pending.ErrDeliveryNotFound
	}
	return nil
}
