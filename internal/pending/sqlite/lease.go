package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

// claim answers a Pending query that carries a signer's claim. It reads the
// matching pending transactions as an unclaimed query does, then leases them
// with one conditional UPDATE: a row is taken only while it is still pending
// and its lease is free, expired or already this signer's. The UPDATE is one
// atomic write, so of two signers claiming the same row at once exactly one
// gets it; rows the UPDATE did not take are left out of the answer. With
// c.Max the UPDATE takes only the c.Max oldest free candidates, chosen inside
// the same statement (SQLite runs one write at a time): free candidates (never
// leased or lease expired) oldest first, then the signer's own running leases,
// so that a signer holding c.Max transactions that keep failing still reaches
// newer work (its own leases lapse and come back as free, oldest first).
// IS, unlike =, is never NULL, which would sort before every free row.
func (s *Store) claim(ctx context.Context, q pending.PendingQuery) ([]pending.Tx, error) {
	c := q.Claim
	if c.Signer == "" || c.Lease <= 0 {
		return nil, fmt.Errorf("claim pending txs: a claim needs a signer and a positive lease")
	}
	plain := q
	plain.Claim = nil
	cands, err := s.Pending(ctx, plain)
	if err != nil || len(cands) == 0 {
		return cands, err
	}
	var list strings.Builder
	list.Grow(27*len(cands) + 2)
	list.WriteByte('[')
	for i, t := range cands {
		if i > 0 {
			list.WriteByte(',')
		}
		// Ids are 24 hex characters: no JSON escaping is needed.
		list.WriteString(`"` + t.ID + `"`)
	}
	list.WriteByte(']')
	at := now()
	limit := int64(-1) // SQLite's "no limit"
	if c.Max > 0 {
		limit = int64(c.Max)
	}
	rows, err := s.db.QueryContext(ctx, `UPDATE txs SET lease_owner = ?1, lease_until = ?2
		WHERE seq IN (SELECT seq FROM txs WHERE id IN (SELECT value FROM json_each(?3)) AND tenant = ?4
		  AND tx_id IS NULL AND deleted_at IS NULL AND failed_at IS NULL
		  AND (lease_owner IS NULL OR lease_owner = ?1 OR lease_until <= ?5)
		  ORDER BY (lease_owner IS ?1 AND lease_until > ?5), seq LIMIT ?6)
		RETURNING id`, c.Signer, at+max(1, c.Lease.Milliseconds()), list.String(), q.Tenant, at, limit)
	if err != nil {
		return nil, fmt.Errorf("claim pending txs: %w", err)
	}
	defer rows.Close()
	got := make(map[string]bool, len(cands))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("claim pending txs: %w", err)
		}
		got[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim pending txs: %w", err)
	}
	out := make([]pending.Tx, 0, len(got))
	for _, t := range cands {
		if got[t.ID] {
			out = append(out, t)
		}
	}
	return out, nil
}

// Renew implements pending.Store: one conditional UPDATE by the unique id
// index, in the group write like the store's other writes. SQLite runs one
// writer at a time, so a renewal and another signer's claim of the same row
// are ordered: a claim that took an expired lease first has made itself the
// owner and the renewal skips the row; a renewal first leaves a running lease
// that the claim passes over.
func (s *Store) Renew(ctx context.Context, tenant, signer string, ids []string, lease time.Duration) ([]string, error) {
	if err := pending.CheckRenewal(signer, lease); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return []string{}, nil
	}
	list, err := json.Marshal(ids) // any string: the store trusts no caller's validation
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	renewed := make(map[string]bool)
	err = s.write(ctx, "renew leases", func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE txs SET lease_until = ?1
			WHERE id IN (SELECT value FROM json_each(?2)) AND tenant = ?3 AND lease_owner = ?4
			  AND tx_id IS NULL AND deleted_at IS NULL AND failed_at IS NULL
			RETURNING id`, now()+max(1, lease.Milliseconds()), string(list), tenant, signer)
		got, err := keysOf[string](rows, err)
		for _, id := range got {
			renewed[id.(string)] = true
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return pending.InOrder(ids, renewed), nil
}
