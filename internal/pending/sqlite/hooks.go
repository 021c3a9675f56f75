package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

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
// or rolls back with the change it reports. A delivery's id is the event's
// and the subscription's joined by "-". A tenant without such a
// subscription costs one indexed read and gets no event.
func (s *Store) emit(ctx context.Context, tx *sql.Tx, tenant string, txSeq int64, pendingID, typ string, body []byte) error {
	rows, err := s.hot.Query(ctx, tx, `SELECT id, url FROM subscriptions WHERE tenant = ? AND type = ? ORDER BY created_at, id`, tenant, typ)
	if err != nil {
		return err
	}
	var subs [][2]string
	for rows.Next() {
		var sub [2]string
		if err := rows.Scan(&sub[0], &sub[1]); err != nil {
			rows.Close()
			return err
		}
		subs = append(subs, sub)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if len(subs) == 0 {
		return nil
	}
	at, eventID := now(), pending.NewID()
	res, err := s.hot.Exec(ctx, tx, `INSERT INTO events (id, tenant, tx_seq, pending_id, type, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		eventID, tenant, txSeq, pendingID, typ, string(body), at)
	if err != nil {
		return err
	}
	n, err := res.LastInsertId()
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if _, err := s.hot.Exec(ctx, tx, `INSERT INTO deliveries (id, event_n, sub_id, tenant, tx_seq, url, next_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			eventID+"-"+sub[0], n, sub[0], tenant, txSeq, sub[1], at); err != nil {
			return err
		}
	}
	return nil
}

// CreateSubscription implements pending.HookStore.
func (s *Store) CreateSubscription(ctx context.Context, tenant, typ, url string) (pending.Subscription, error) {
	sub := pending.Subscription{ID: pending.NewID(), Type: typ, URL: url, CreatedAt: time.UnixMilli(now())}
	_, err := s.db.ExecContext(ctx, `INSERT INTO subscriptions (id, tenant, type, url, created_at) VALUES (?, ?, ?, ?, ?)`,
		sub.ID, tenant, typ, url, sub.CreatedAt.UnixMilli())
	if err != nil {
		return pending.Subscription{}, fmt.Errorf("create subscription: %w", err)
	}
	return sub, nil
}

// Subscriptions implements pending.HookStore.
func (s *Store) Subscriptions(ctx context.Context, tenant string) ([]pending.Subscription, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, type, url, created_at FROM subscriptions WHERE tenant = ? ORDER BY created_at, id`, tenant)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	out := []pending.Subscription{}
	for rows.Next() {
		var (
			sub pending.Subscription
			at  int64
		)
		if err := rows.Scan(&sub.ID, &sub.Type, &sub.URL, &at); err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
		sub.CreatedAt = time.UnixMilli(at)
		out = append(out, sub)
	}
	return out, rows.Err()
}

// DeleteSubscription implements pending.HookStore.
func (s *Store) DeleteSubscription(ctx context.Context, tenant, id string) error {
	return s.write(ctx, "delete subscription", func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE id = ? AND tenant = ?`, id, tenant)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errOr(err, pending.ErrSubscriptionNotFound)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM deliveries WHERE sub_id = ? AND state = ?`, id, deliveryDue)
		return err
	})
}

// errOr is err, or missing when err is nil (a write that found no row).
func errOr(err, missing error) error {
	if err != nil {
		return err
	}
	return missing
}

// SetHMACSecret implements pending.HookStore.
func (s *Store) SetHMACSecret(ctx context.Context, tenant, secret string) error {
	var err error
	if secret == "" {
		_, err = s.db.ExecContext(ctx, `DELETE FROM hook_secrets WHERE tenant = ?`, tenant)
	} else {
		_, err = s.db.ExecContext(ctx, `INSERT INTO hook_secrets (tenant, secret) VALUES (?1, ?2)
			ON CONFLICT (tenant) DO UPDATE SET secret = ?2`, tenant, secret)
	}
	if err != nil {
		return fmt.Errorf("set webhook secret: %w", err)
	}
	return nil
}

// ClaimDeliveries implements pending.HookStore. SQLite runs one writer at a
// time, so the selection and the lease are one step for every process.
func (s *Store) ClaimDeliveries(ctx context.Context, c pending.DeliveryClaim) ([]pending.Delivery, error) {
	if err := pending.CheckLeaseClaim("claim deliveries", c.Owner, c.Lease, c.Max); err != nil {
		return nil, err
	}
	var out []pending.Delivery
	err := s.write(ctx, "claim deliveries", func(ctx context.Context, tx *sql.Tx) error {
		at := now()
		rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET lease_owner = ?1, lease_until = ?2 WHERE id IN (
			SELECT d.id FROM deliveries d WHERE d.state = 0 AND d.next_at <= ?3 AND (d.lease_until IS NULL OR d.lease_until <= ?3)
			AND NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.state = 0 AND p.tx_seq = d.tx_seq AND p.url = d.url AND p.event_n < d.event_n)
			ORDER BY d.next_at, d.event_n LIMIT ?4) RETURNING id`, c.Owner, at+max(1, c.Lease.Milliseconds()), at, c.Max)
		ids, err := keysOf[string](rows, err)
		if err != nil || len(ids) == 0 {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT d.id, e.id, d.tenant, d.sub_id, e.pending_id, e.type, e.body, d.url,
			coalesce(h.secret, ''), d.attempts, e.created_at, e.n
			FROM deliveries d JOIN events e ON e.n = d.event_n LEFT JOIN hook_secrets h ON h.tenant = d.tenant
			WHERE d.id IN (?`+strings.Repeat(",?", len(ids)-1)+`) ORDER BY d.next_at, e.n`, ids...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				d    pending.Delivery
				body string
				at   int64
			)
			if err := rows.Scan(&d.ID, &d.EventID, &d.Tenant, &d.SubscriptionID, &d.PendingID, &d.Type, &body, &d.URL,
				&d.Secret, &d.Attempts, &at, &d.Order); err != nil {
				return err
			}
			d.Body, d.CreatedAt = []byte(body), time.UnixMilli(at)
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

// Delivered implements pending.HookStore.
func (s *Store) Delivered(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{deliveryDelivered, now(), deliveryDue}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE deliveries SET state = ?, done_at = ?, lease_owner = NULL, lease_until = NULL
		WHERE state = ? AND id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, args...)
	if err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}

// DeliveryFailed implements pending.HookStore.
func (s *Store) DeliveryFailed(ctx context.Context, owner, id, reason string, retryIn time.Duration, dead bool) error {
	at := now()
	state, doneAt := deliveryDue, sql.NullInt64{}
	if dead {
		state, doneAt = deliveryDead, sql.NullInt64{Int64: at, Valid: true}
	}
	_, err := s.db.ExecContext(ctx, `UPDATE deliveries SET attempts = attempts + 1, last_error = ?, next_at = ?, state = ?, done_at = ?,
		lease_owner = NULL, lease_until = NULL WHERE id = ? AND state = ? AND lease_owner = ?`,
		reason, at+retryIn.Milliseconds(), state, doneAt, id, deliveryDue, owner)
	if err != nil {
		return fmt.Errorf("record failed delivery: %w", err)
	}
	return nil
}

// DeadLetters implements pending.HookStore.
func (s *Store) DeadLetters(ctx context.Context, tenant string) ([]pending.DeadLetter, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.id, e.id, d.sub_id, e.pending_id, e.type, d.url, e.body, d.attempts,
		coalesce(d.last_error, ''), e.created_at, d.done_at
		FROM deliveries d JOIN events e ON e.n = d.event_n WHERE d.tenant = ? AND d.state = ? ORDER BY d.event_n, d.id`, tenant, deliveryDead)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	defer rows.Close()
	out := []pending.DeadLetter{}
	for rows.Next() {
		var (
			l             pending.DeadLetter
			body          string
			created, dead int64
		)
		if err := rows.Scan(&l.ID, &l.EventID, &l.SubscriptionID, &l.PendingID, &l.Type, &l.URL, &body, &l.Attempts,
			&l.LastError, &created, &dead); err != nil {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
		l.Body, l.CreatedAt, l.FailedAt = []byte(body), time.UnixMilli(created), time.UnixMilli(dead)
		out = append(out, l)
	}
	return out, rows.Err()
}

// RetryDeadLetter implements pending.HookStore.
func (s *Store) RetryDeadLetter(ctx context.Context, tenant, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE deliveries SET state = ?, attempts = 0, next_at = ?, done_at = NULL
		WHERE id = ? AND tenant = ? AND state = ?`, deliveryDue, now(), id, tenant, deliveryDead)
	if err != nil {
		return fmt.Errorf("retry dead letter: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errOr(err, pending.ErrDeliveryNotFound)
	}
	return nil
}

// keysOf reads the one column of the rows a claim's UPDATE … RETURNING
// answered (err is the query's), as arguments for the claim's next query.
func keysOf[T any](rows *sql.Rows, err error) ([]any, error) {
	if err != nil {
		return nil, err
	}
	var out []any
	for rows.Next() {
		var k T
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Close()
}
