package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/custoskms/custos/internal/pending"
)

// renewSQL moves to $4 milliseconds from now, by the database's clock (as a
// claim sets it), the lease of each row of ids $3 in tenant $1 that is still
// pending and leased to signer $2. The ids travel as one text array, read by
// the unique id index, so the statement does not grow with the list.
//
// Under READ COMMITTED an UPDATE that meets a row another statement is
// changing waits for it and checks its conditions again on the committed row:
// a claim by another signer that took the expired lease first has changed
// lease_owner, so the renewal skips the row; a renewal that locked the row
// first is passed over by the claim (SKIP LOCKED), and commits a running lease.
const renewSQL = `UPDATE txs SET lease_until = now() + $4 * interval '1 millisecond'
	WHERE txs.id = ANY($3::text[]) AND txs.tenant = $1 AND txs.lease_owner = $2
	  AND txs.tx_id IS NULL AND txs.deleted_at IS NULL AND txs.failed_at IS NULL
	RETURNING txs.id`

// Renew implements pending.Store. The statement runs unnamed, as the pending
// queries do, so that it is planned for its actual list.
func (s *Store) Renew(ctx context.Context, tenant, signer string, ids []string, lease time.Duration) ([]string, error) {
	if err := pending.CheckRenewal(signer, lease); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return []string{}, nil
	}
	rows, err := s.pool.Query(ctx, renewSQL, pgx.QueryExecModeCacheDescribe, tenant, signer, ids, max(1, lease.Milliseconds()))
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	renewed := make(map[string]bool, len(got))
	for _, id := range got {
		renewed[id] = true
	}
	return pending.InOrder(ids, renewed), nil
}
