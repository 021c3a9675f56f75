// Package postgres is the pending store for several API replicas: PostgreSQL
// (or a compatible database) through pgx v5, with its schema migrated in code
// on open. Nothing is kept in the process: every replica on the same database
// sees the same transactions, keys, credits and signer leases, and every
// write that branches on a row's state locks that row first.
package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custoskms/custos/internal/pending"
)

var _ pending.Store = (*Store)(nil)

// Store is a pending.Store over a PostgreSQL connection pool.
type Store struct {
	pool *pgxpool.Pool
	pending.Keyring
}

// migrationLock is the advisory lock key that serializes migrations of
// replicas starting at the same time ("custos" in ASCII).
const migrationLock = 0x637573746f73

// Open connects to the database at url (postgres://user:pass@host:port/db?…)
// and migrates it. The password in url is never part of an error.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the URL; say only what kind of problem it is.
		return nil, errors.New("open pending store: the PostgreSQL URL could not be parsed")
	}
	if cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pending store: %w", err)
	}
	s := &Store{pool: pool, Keyring: pending.Keyring{Table: keyTable{pool}}}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Migrate applies migrations up to version target (len(migrations) for all);
// Open calls it with all. Tests use it to build a database of an older schema.
func migrateTo(ctx context.Context, pool *pgxpool.Pool, target int) error {
	for {
		done, err := migrateOne(ctx, pool, target)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration below target in its own transaction,
// under an advisory lock so that replicas starting together take turns.
func migrateOne(ctx context.Context, pool *pgxpool.Pool, target int) (done bool, err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate pending store: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return false, fmt.Errorf("migrate pending store: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return false, fmt.Errorf("migrate pending store: %w", err)
	}
	var version int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return false, fmt.Errorf("migrate pending store: %w", err)
	}
	if version > len(migrations) {
		return false, fmt.Errorf("pending store schema version %d is newer than this build (%d)", version, len(migrations))
	}
	if version >= target {
		return true, tx.Commit(ctx)
	}
	if _, err := tx.Exec(ctx, migrations[version]); err != nil {
		return false, fmt.Errorf("migrate pending store to version %d: %w", version+1, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, version+1); err != nil {
		return false, fmt.Errorf("migrate pending store to version %d: %w", version+1, err)
	}
	return false, tx.Commit(ctx)
}

func (s *Store) migrate(ctx context.Context) error { return migrateTo(ctx, s.pool, len(migrations)) }

// SchemaVersion reports the migrated schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// Ping implements pending.Store.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close implements pending.Store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Create implements pending.Store. The rows and their index entries go in
// with one batch in one transaction; a transaction placed in a sequence
// first takes its sequence in the same transaction (one more round trip).
func (s *Store) Create(ctx context.Context, tenant string, txs ...pending.NewTx) ([]string, error) {
	ids := make([]string, 0, len(txs))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, t := range txs {
			var seqKey, seqNum any
			if t.Sequence != nil {
				n, serialized, err := placeInSequence(ctx, tx, t)
				if err != nil {
					return err
				}
				t.SerializedTransaction, seqKey, seqNum = serialized, t.Sequence.Key.String(), n
			}
			id := pending.NewID()
			hj, sigs, wr, wid, idx := t.Stored()
			keys := make([]int64, 0, len(t.Hashes)+len(t.Signatures))
			for _, sig := range t.SignatureIDs() {
				keys = append(keys, pending.SigKey(tenant, t.Chain, sig))
			}
			b.Queue(`WITH t AS (
				INSERT INTO txs (id, tenant, chain, serialized, hashes, idx, signatures, withdrawal_id, withdrawal_responses, created_at, seq_key, seq_num, state_at, replaces)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), $11, $12, now(),
					CASE WHEN $13::text IS NOT NULL THEN coalesce((SELECT r.replaces FROM txs r WHERE r.tenant = $2 AND r.id = $13), $13) END) RETURNING seq)
				INSERT INTO pending_keys (k, seq) SELECT DISTINCT k, t.seq FROM t, unnest($10::bigint[]) AS k
				ON CONFLICT DO NOTHING`,
				id, tenant, t.Chain, t.SerializedTransaction, hj, idx, sigs, wid, wr, keys, seqKey, seqNum, nullString(t.Replaces))
			ids = append(ids, id)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, fmt.Errorf("create pending tx: %w", err)
	}
	return ids, nil
}

// placeInSequence allocates t's sequence or records its given one. The
// upsert locks the sender's sequences row until the transaction ends, so
// allocations of one sender from every replica take turns and each sees the
// previous one's next; other senders are not held up.
func placeInSequence(ctx context.Context, tx pgx.Tx, t pending.NewTx) (int64, string, error) {
	r := t.Sequence
	if r.Given != nil {
		n, err := pending.StoredSeq(*r.Given)
		if err != nil {
			return 0, "", err
		}
		_, err = tx.Exec(ctx, `INSERT INTO sequences (seq_key, next) VALUES ($1, $2::bigint + 1)
			ON CONFLICT (seq_key) DO UPDATE SET next = greatest(sequences.next, excluded.next)`, r.Key.String(), n)
		return n, t.SerializedTransaction, err
	}
	floor, err := pending.StoredSeq(r.Floor)
	if err != nil {
		return 0, "", err
	}
	var n int64
	if err := tx.QueryRow(ctx, `INSERT INTO sequences (seq_key, next) VALUES ($1, $2::bigint + 1)
		ON CONFLICT (seq_key) DO UPDATE SET next = greatest(sequences.next, $2::bigint) + 1 RETURNING next - 1`,
		r.Key.String(), floor).Scan(&n); err != nil {
		return 0, "", err
	}
	serialized, err := r.Render(uint64(n))
	return n, serialized, err
}

// freeSequence frees the sequence a deleted or failed transaction held
// (pending.TxStore's Fail), after the row is marked. The sender's sequences
// row is locked first, so that frees and allocations of one sender take
// turns and each reads the live transactions the previous one left.
func freeSequence(ctx context.Context, tx pgx.Tx, st txState) (*pending.Hole, error) {
	if st.seqKey == nil || st.failedAt != nil {
		return nil, nil // not in a sequence, or freed when it failed
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM sequences WHERE seq_key = $1 FOR UPDATE`, *st.seqKey); err != nil {
		return nil, err
	}
	var (
		highest *int64
		same    bool
	)
	if err := tx.QueryRow(ctx, `SELECT max(seq_num), coalesce(bool_or(seq_num = $2), false) FROM txs
		WHERE seq_key = $1 AND seq_key IS NOT NULL AND deleted_at IS NULL AND failed_at IS NULL`,
		*st.seqKey, *st.seqNum).Scan(&highest, &same); err != nil {
		return nil, err
	}
	switch {
	case same: // another live transaction holds the same sequence (both given)
		return nil, nil
	case highest == nil || *highest < *st.seqNum:
		next := int64(0) // none live: the node's floor lifts it
		if highest != nil {
			next = *highest + 1
		}
		_, err := tx.Exec(ctx, `UPDATE sequences SET next = $2 WHERE seq_key = $1 AND next > $2`, *st.seqKey, next)
		return nil, err
	}
	return pending.NewHole(*st.seqKey, *st.seqNum, st.hashes, st.idx, st.sigs)
}

const txColumns = `txs.id, txs.chain, txs.serialized, txs.hashes, txs.idx, txs.signatures, txs.withdrawal_id, txs.withdrawal_responses, txs.tx_id`

// scanTx reads txColumns, after the columns lead (when given) reads into.
func scanTx(r pgx.Row, lead ...any) (pending.Tx, error) {
	var (
		t                   pending.Tx
		hashes              string
		idx                 *int64
		sigs, wid, wr, txID *string
	)
	if err := r.Scan(append(lead, &t.ID, &t.Chain, &t.SerializedTransaction, &hashes, &idx, &sigs, &wid, &wr, &txID)...); err != nil {
		return t, err
	}
	if err := json.Unmarshal([]byte(hashes), &t.Hashes); err != nil {
		return t, fmt.Errorf("stored hashes of %s: %w", t.ID, err)
	}
	if t.Hashes == nil {
		t.Hashes = []string{}
	}
	if idx != nil {
		v := uint32(*idx)
		t.Index = &v
	}
	if sigs != nil {
		if err := json.Unmarshal([]byte(*sigs), &t.Signatures); err != nil {
			return t, fmt.Errorf("stored signatures of %s: %w", t.ID, err)
		}
	}
	if wid != nil {
		t.WithdrawalID = *wid
	}
	if wr != nil {
		t.WithdrawalResponses = json.RawMessage(*wr)
	}
	if txID != nil {
		t.TxID = *txID
	}
	return t, nil
}

// Get implements pending.Store.
func (s *Store) Get(ctx context.Context, tenant, id string) (pending.Tx, error) {
	var st stateRow
	t, err := scanTx(s.pool.QueryRow(ctx, `SELECT `+stateColumns+`, `+txColumns+`
		FROM txs WHERE id = $1 AND tenant = $2 AND deleted_at IS NULL`, id, tenant), st.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return pending.Tx{}, pending.ErrNotFound
	}
	if err != nil {
		return pending.Tx{}, fmt.Errorf("get pending tx: %w", err)
	}
	st.fill(&t)
	return t, nil
}

// Pending implements pending.Store. A signature list travels as one bigint
// array of hashed keys (pending.SigKey; a few bytes per ID in pgx's binary
// format) and is matched against the pending_keys primary key, so the cost
// follows the list and the matches, not the number of stored transactions,
// and no statement grows with the list. Without a claim, match.go answers.
// A claim is the same selection locked, filtered by lease, cut at its Max
// and leased in one statement.
//
// The statements run unnamed (QueryExecModeCacheDescribe), so the server
// plans each one for its actual list: a plan cached for a list of a few
// thousand IDs can be ruinous for a list of a million.
func (s *Store) Pending(ctx context.Context, q pending.PendingQuery) ([]pending.Tx, error) {
	var (
		ps   *pending.ProbeSet
		seqs []int64 // nil: every pending transaction of the tenant and chain
	)
	if q.SignatureIDs != nil {
		if len(q.SignatureIDs) == 0 {
			return []pending.Tx{}, nil
		}
		if q.Claim == nil {
			return s.pendingByIDs(ctx, q) // match.go
		}
		ps = pending.NewProbeSet(q.Tenant, q.Chain, q.SignatureIDs)
		err := s.pool.QueryRow(ctx, matchSQL, pgx.QueryExecModeCacheDescribe, ps.DistinctKeys()).Scan(&seqs)
		if err != nil {
			return nil, fmt.Errorf("query pending txs: %w", err)
		}
		if len(seqs) == 0 {
			return []pending.Tx{}, nil
		}
	}
	var (
		rows pgx.Rows
		err  error
	)
	if c := q.Claim; c != nil {
		if c.Signer == "" || c.Lease <= 0 {
			return nil, errors.New("claim pending txs: a claim needs a signer and a positive lease")
		}
		rows, err = s.pool.Query(ctx, claimSQL[b2i(c.Max > 0)][b2i(seqs != nil)], pgx.QueryExecModeCacheDescribe, q.Tenant, q.Chain, seqs,
			c.Signer, limitOf(c), max(1, c.Lease.Milliseconds()))
	} else {
		rows, err = s.pool.Query(ctx, pendingSQL[b2i(seqs != nil)], pgx.QueryExecModeCacheDescribe, q.Tenant, q.Chain, seqs)
	}
	if err != nil {
		return nil, fmt.Errorf("query pending txs: %w", err)
	}
	defer rows.Close()
	type seqTx struct {
		seq int64
		tx  pending.Tx
	}
	var found []seqTx
	for rows.Next() {
		var r seqTx
		if r.tx, err = scanTx(rows, &r.seq); err != nil {
			return nil, fmt.Errorf("query pending txs: %w", err)
		}
		// A key collision, not a real match. (A claim has leased such a
		// row too: it stays unsigned until the lease runs out, once in
		// billions of queries.)
		if ps != nil && !ps.Matches(&r.tx) {
			continue
		}
		found = append(found, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query pending txs: %w", err)
	}
	if q.Claim != nil { // RETURNING has no order
		slices.SortFunc(found, func(a, b seqTx) int { return cmp.Compare(a.seq, b.seq) })
	}
	out := make([]pending.Tx, len(found))
	for i := range found {
		out[i] = found[i].tx
	}
	return out, nil
}

// matchSQL finds the rows whose index keys are in $1. It reads one table
// and its only condition is the list, so any plan is linear in the list and
// the index (and a join with txs cannot be planned as a loop over both, which
// stale statistics after a bulk insert made it do). The list is behind a
// sub-select, so the planner does not estimate it key by key (match.go).
const matchSQL = `SELECT coalesce(array_agg(DISTINCT p.seq), '{}') FROM pending_keys p WHERE p.k = ANY((SELECT $1::bigint[])::bigint[])`

// pendingWhere selects the pending transactions of tenant $1 and chain $2,
// bySeqs: only the rows $3 (from matchSQL). Without them $3 is NULL; an OR of
// the two forms would keep the planner from reading the rows by primary key.
func pendingWhere(bySeqs bool) string {
	w := `txs.tenant = $1 AND txs.chain = $2 AND txs.tx_id IS NULL AND txs.deleted_at IS NULL AND txs.failed_at IS NULL`
	if bySeqs {
		return w + ` AND txs.seq = ANY($3::bigint[])`
	}
	return w + ` AND $3::bigint[] IS NULL`
}

// pendingSQL is indexed by whether the query has a list, claimSQL by
// whether the claim has a Max and then whether it has a list.
var (
	pendingSQL = [2]string{pendingSelect(false), pendingSelect(true)}
	claimSQL   = [2][2]string{
		{claimAll(false), claimAll(true)},
		{claimUpdate(false), claimUpdate(true)},
	}
)

func pendingSelect(bySeqs bool) string {
	return `SELECT txs.seq, ` + txColumns + ` FROM txs WHERE ` + pendingWhere(bySeqs) + ` ORDER BY txs.seq`
}

// claimUpdate leases to signer $4 the oldest $5 (NULL: all) selected rows
// that are still pending and free (never leased or lease expired), topping
// them up with its own running leases, oldest first, only when fewer than $5
// are free; each for $6 milliseconds by the database's clock. Free work comes
// first so that a signer holding $5 transactions that keep failing still
// reaches newer ones (its own leases lapse and come back as free, oldest
// first). Each part stops at $5 rows in seq order, so neither reads the whole
// backlog. FOR UPDATE rechecks a row another claim changed meanwhile, and
// SKIP LOCKED passes over rows another claim is taking at this moment, so two
// claims never return the same transaction.
func claimUpdate(bySeqs bool) string {
	return `WITH free AS (
		SELECT txs.seq FROM txs WHERE ` + pendingWhere(bySeqs) + `
		  AND (txs.lease_owner IS NULL OR txs.lease_until <= now())
		ORDER BY txs.seq LIMIT $5
		FOR UPDATE SKIP LOCKED),
	own AS (
		SELECT txs.seq FROM txs WHERE ` + pendingWhere(bySeqs) + `
		  AND txs.lease_owner = $4 AND txs.lease_until > now()
		ORDER BY txs.seq LIMIT $5
		FOR UPDATE SKIP LOCKED),
	pick AS (
		SELECT seq FROM (SELECT seq, 0 AS renew FROM free UNION ALL SELECT seq, 1 FROM own) c
		ORDER BY renew, seq LIMIT $5)
	UPDATE txs SET lease_owner = $4, lease_until = now() + $6 * interval '1 millisecond'
	FROM pick WHERE txs.seq = pick.seq
	RETURNING txs.seq, ` + txColumns
}

// claimAll is claimUpdate without a Max ($5 is NULL): every selected row
// free or already the signer's is taken, so there is no order to keep and one
// pass over the selection does.
func claimAll(bySeqs bool) string {
	return `WITH pick AS (
		SELECT txs.seq FROM txs WHERE ` + pendingWhere(bySeqs) + `
		  AND (txs.lease_owner IS NULL OR txs.lease_owner = $4 OR txs.lease_until <= now())
		  AND $5::bigint IS NULL
		FOR UPDATE SKIP LOCKED)
	UPDATE txs SET lease_owner = $4, lease_until = now() + $6 * interval '1 millisecond'
	FROM pick WHERE txs.seq = pick.seq
	RETURNING txs.seq, ` + txColumns
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// limitOf is a claim's LIMIT parameter: NULL (no limit) unless Max is positive.
func limitOf(c *pending.Claim) *int64 {
	if c.Max <= 0 {
		return nil
	}
	n := int64(c.Max)
	return &n
}

// txState is the part of a row the write paths branch on, read under a row lock.
type txState struct {
	seq       int64
	chain     string
	hashes    string
	sigs      *string
	txID      *string
	deletedAt *time.Time
	failedAt  *time.Time
	idx       *int64
	seqKey    *string
	seqNum    *int64
}

// lockState reads a transaction's state and locks its row until the end of
// tx, so that concurrent completes, deletes and broadcasts of one transaction
// (from any replica) take turns and each sees the previous one's outcome.
func lockState(ctx context.Context, tx pgx.Tx, tenant, id string) (txState, error) {
	var st txState
	err := tx.QueryRow(ctx, `SELECT seq, chain, hashes, signatures, tx_id, deleted_at, failed_at, idx, seq_key, seq_num FROM txs
		WHERE id = $1 AND tenant = $2 FOR UPDATE`, id, tenant).
		Scan(&st.seq, &st.chain, &st.hashes, &st.sigs, &st.txID, &st.deletedAt, &st.failedAt, &st.idx, &st.seqKey, &st.seqNum)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, pending.ErrNotFound
	}
	return st, err
}

// unindex removes a transaction from the pending index.
func unindex(ctx context.Context, tx pgx.Tx, tenant string, st txState) error {
	var ids []string
	if err := json.Unmarshal([]byte(st.hashes), &ids); err != nil {
		return err
	}
	if st.sigs != nil {
		var sigs []pending.Signature
		if err := json.Unmarshal([]byte(*st.sigs), &sigs); err != nil {
			return err
		}
		for _, sg := range sigs {
			ids = append(ids, sg.ID)
		}
	}
	keys := make([]int64, len(ids))
	for i, id := range ids {
		keys[i] = pending.SigKey(tenant, st.chain, id)
	}
	_, err := tx.Exec(ctx, `DELETE FROM pending_keys WHERE k = ANY($1::bigint[]) AND seq = $2`, keys, st.seq)
	return err
}

// isSentinel reports the errors the store returns to callers unwrapped.
func isSentinel(err error) bool {
	return errors.Is(err, pending.ErrNotFound) || errors.Is(err, pending.ErrDeleted) ||
		errors.Is(err, pending.ErrCompleted) || errors.Is(err, pending.ErrTxIDConflict) ||
		errors.Is(err, pending.ErrKeyNotFound) || errors.Is(err, pending.ErrKeyExists)
}

func (s *Store) write(ctx context.Context, op string, f func(pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, f)
	if err != nil && !isSentinel(err) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return err
}

// SetTxData implements pending.Store. The common case, a pending
// transaction, is one conditional UPDATE (one round trip, no explicit
// transaction); only when it changes nothing is the row read to tell why. A
// pending row can only become completed or deleted, never back, so that
// answer cannot go stale. A concurrent complete or delete holding the row
// makes the UPDATE wait and then recheck its condition on the new version.
func (s *Store) SetTxData(ctx context.Context, tenant, id, txData string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE txs SET tx_data = $1, state_at = CASE WHEN tx_data IS NULL THEN now() ELSE state_at END
		WHERE id = $2 AND tenant = $3 AND tx_id IS NULL AND deleted_at IS NULL`,
		txData, id, tenant)
	if err != nil {
		return fmt.Errorf("store signed tx: %w", err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	var deleted bool
	err = s.pool.QueryRow(ctx, `SELECT deleted_at IS NOT NULL FROM txs WHERE id = $1 AND tenant = $2`, id, tenant).Scan(&deleted)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || deleted:
		return pending.ErrNotFound
	case err != nil:
		return fmt.Errorf("store signed tx: %w", err)
	}
	return nil // completed: it keeps its first txData
}

// TxData implements pending.Store.
func (s *Store) TxData(ctx context.Context, tenant, id string) (string, error) {
	var d *string
	err := s.pool.QueryRow(ctx, `SELECT tx_data FROM txs WHERE id = $1 AND tenant = $2`, id, tenant).Scan(&d)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", pending.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("get signed tx: %w", err)
	}
	if d == nil {
		return "", nil
	}
	return *d, nil
}

// Complete implements pending.Store.
func (s *Store) Complete(ctx context.Context, tenant, id, txID string) error {
	return s.write(ctx, "complete pending tx", func(tx pgx.Tx) error {
		// A pending row, the common case, is locked and completed by the
		// first statement; a concurrent complete or delete makes it wait and
		// then find the row no longer pending.
		var st txState
		// It becomes due for the outcome tracker at once.
		err := tx.QueryRow(ctx, `UPDATE txs SET tx_id = $1, lease_owner = NULL, lease_until = NULL, state_at = now(), track_next_at = now()
			WHERE id = $2 AND tenant = $3 AND tx_id IS NULL AND deleted_at IS NULL
			RETURNING seq, chain, hashes, signatures`, txID, id, tenant).Scan(&st.seq, &st.chain, &st.hashes, &st.sigs)
		if err == nil {
			if err := unindex(ctx, tx, tenant, st); err != nil {
				return err
			}
			return emit(ctx, tx, tenant, st.seq, id, pending.EventCompleted, pending.EventBody(pending.EventCompleted, id, txID))
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if st, err = lockState(ctx, tx, tenant, id); err != nil {
			return err
		}
		switch {
		case st.deletedAt != nil:
			return pending.ErrDeleted
		case st.txID != nil && *st.txID == txID:
			return nil
		}
		return pending.ErrTxIDConflict
	})
}

// retire ends a transaction that is neither deleted nor completed, its row
// locked: mark records how (and reports done when there is nothing left to
// do), then the row leaves the pending index and its sequence is freed.
func retire(ctx context.Context, tx pgx.Tx, tenant, id string, mark func(txState) (done bool, err error)) (*pending.Hole, error) {
	st, err := lockState(ctx, tx, tenant, id)
	if err != nil {
		return nil, err
	}
	switch {
	case st.deletedAt != nil:
		return nil, pending.ErrNotFound
	case st.txID != nil:
		return nil, pending.ErrCompleted
	}
	if done, err := mark(st); err != nil || done {
		return nil, err
	}
	if err := unindex(ctx, tx, tenant, st); err != nil {
		return nil, err
	}
	return freeSequence(ctx, tx, st)
}

// Delete implements pending.Store.
func (s *Store) Delete(ctx context.Context, tenant, id string, revert bool) (hole *pending.Hole, err error) {
	err = s.write(ctx, "delete pending tx", func(tx pgx.Tx) (err error) {
		hole, err = retire(ctx, tx, tenant, id, func(st txState) (bool, error) {
			_, err := tx.Exec(ctx, `UPDATE txs SET deleted_at = now(), revert = $1, lease_owner = NULL, lease_until = NULL WHERE seq = $2`, revert, st.seq)
			return false, err
		})
		return err
	})
	return hole, err
}

// Fail implements pending.Store.
func (s *Store) Fail(ctx context.Context, tenant, id, reason string) (hole *pending.Hole, err error) {
	err = s.write(ctx, "fail pending tx", func(tx pgx.Tx) (err error) {
		hole, err = retire(ctx, tx, tenant, id, func(st txState) (bool, error) {
			if st.failedAt != nil {
				return true, nil
			}
			if _, err := tx.Exec(ctx, `UPDATE txs SET failed_at = now(), state_at = now(), fail_state = $2, lease_owner = NULL, lease_until = NULL WHERE seq = $1`,
				st.seq, string(pending.FailState(reason))); err != nil {
				return false, err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO tx_errors (seq, at, message) VALUES ($1, now(), $2)`, st.seq, reason); err != nil {
				return false, err
			}
			for _, e := range pending.FailEvents(id, reason) {
				if err := emit(ctx, tx, tenant, st.seq, id, e.Type, e.Body); err != nil {
					return false, err
				}
			}
			return false, nil
		})
		return err
	})
	return hole, err
}

// Deletion implements pending.Store.
func (s *Store) Deletion(ctx context.Context, tenant, id string) (pending.Deletion, error) {
	var (
		d   pending.Deletion
		wid *string
		at  *time.Time
		rev *bool
	)
	err := s.pool.QueryRow(ctx, `SELECT id, withdrawal_id, deleted_at, revert FROM txs WHERE id = $1 AND tenant = $2`, id, tenant).
		Scan(&d.ID, &wid, &at, &rev)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && at == nil) {
		return pending.Deletion{}, pending.ErrNotFound
	}
	if err != nil {
		return pending.Deletion{}, fmt.Errorf("get deletion: %w", err)
	}
	if wid != nil {
		d.WithdrawalID = *wid
	}
	d.Revert, d.DeletedAt = rev != nil && *rev, *at
	return d, nil
}

// RecordErrors implements pending.Store.
func (s *Store) RecordErrors(ctx context.Context, tenant string, errs []pending.TxError) (int, error) {
	known := 0
	// Row locks are taken in id order, so two batches naming the same
	// transactions in another order wait for each other instead of deadlocking.
	errs = slices.Clone(errs)
	slices.SortStableFunc(errs, func(a, b pending.TxError) int { return cmp.Compare(a.ID, b.ID) })
	err := s.write(ctx, "record signer errors", func(tx pgx.Tx) error {
		for _, e := range errs {
			// The row lock orders this report's event after a concurrent
			// complete or failure of the same transaction, or before it.
			var (
				seq  int64
				last *string
			)
			err := tx.QueryRow(ctx, `SELECT t.seq, (SELECT e.message FROM tx_errors e WHERE e.seq = t.seq ORDER BY e.n DESC LIMIT 1)
				FROM txs t WHERE t.id = $1 AND t.tenant = $2 FOR UPDATE`, e.ID, tenant).Scan(&seq, &last)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO tx_errors (seq, at, message) VALUES ($1, now(), $2)`, seq, e.Message); err != nil {
				return err
			}
			known++
			if pending.RepeatedReport(last != nil, deref(last), e.Message) {
				continue
			}
			if err := emit(ctx, tx, tenant, seq, e.ID, pending.EventFailed, pending.EventBody(pending.EventFailed, e.ID, e.Message)); err != nil {
				return err
			}
		}
		return nil
	})
	return known, err
}

// Errors implements pending.Store.
func (s *Store) Errors(ctx context.Context, tenant, id string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT e.message FROM tx_errors e JOIN txs t ON t.seq = e.seq
		WHERE t.id = $1 AND t.tenant = $2 ORDER BY e.n`, id, tenant)
	if err != nil {
		return nil, fmt.Errorf("get signer errors: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("get signer errors: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// LastError implements pending.Store.
func (s *Store) LastError(ctx context.Context, tenant, id string) (string, int, error) {
	var (
		last  *string
		count int
	)
	err := s.pool.QueryRow(ctx, `SELECT count(*), (SELECT e.message FROM tx_errors e WHERE e.seq = t.seq ORDER BY e.n DESC LIMIT 1)
		FROM txs t JOIN tx_errors e ON e.seq = t.seq WHERE t.id = $1 AND t.tenant = $2 GROUP BY t.seq`, id, tenant).Scan(&count, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("get last signer error: %w", err)
	}
	if last == nil {
		return "", count, nil
	}
	return *last, count, nil
}

// NextSequence implements pending.Store.
func (s *Store) NextSequence(ctx context.Context, key pending.SeqKey) (uint64, error) {
	var next int64
	err := s.pool.QueryRow(ctx, `SELECT next FROM sequences WHERE seq_key = $1`, key.String()).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read next sequence: %w", err)
	}
	return uint64(next), nil
}

// keyTable is the api_keys table for pending.Keyring.
type keyTable struct{ pool *pgxpool.Pool }

// InsertKey implements pending.KeyTable.
func (t keyTable) InsertKey(ctx context.Context, k pending.APIKey) (pending.APIKey, error) {
	err := t.pool.QueryRow(ctx, `INSERT INTO api_keys (id, name, secret_hash, testnet, scopes, created_at)
		VALUES ($1, $2, $3, $4, $5, date_trunc('milliseconds', now())) RETURNING created_at`,
		k.ID, k.Name, k.SecretHash[:], k.Testnet, k.Scopes.String()).Scan(&k.CreatedAt)
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "23505" {
		return k, pending.ErrKeyExists
	}
	return k, err
}

// SelectKeys implements pending.KeyTable.
func (t keyTable) SelectKeys(ctx context.Context, byHash *[32]byte) ([]pending.APIKey, error) {
	const cols = `SELECT id, secret_hash, name, testnet, scopes, credits, created_at, revoked_at FROM api_keys`
	var (
		rows pgx.Rows
		err  error
	)
	if byHash != nil {
		rows, err = t.pool.Query(ctx, cols+` WHERE secret_hash = $1 AND revoked_at IS NULL`, byHash[:])
	} else {
		rows, err = t.pool.Query(ctx, cols+` ORDER BY created_at, id`)
	}
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (pending.APIKey, error) {
		var (
			k      pending.APIKey
			hash   []byte
			scopes string
		)
		if err := r.Scan(&k.ID, &hash, &k.Name, &k.Testnet, &scopes, &k.Credits, &k.CreatedAt, &k.RevokedAt); err != nil {
			return k, err
		}
		copy(k.SecretHash[:], hash)
		var err error
		if k.Scopes, err = pending.ParseScopes(scopes); err != nil {
			return k, fmt.Errorf("api key %s: %w", k.ID, err)
		}
		return k, nil
	})
}

// RevokeKey implements pending.KeyTable.
func (t keyTable) RevokeKey(ctx context.Context, id string) (bool, error) {
	tag, err := t.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
	return tag.RowsAffected() > 0, err
}

// AddCredits implements pending.KeyTable.
func (t keyTable) AddCredits(ctx context.Context, id string, n int64) error {
	_, err := t.pool.Exec(ctx, `UPDATE api_keys SET credits = credits + $1 WHERE id = $2`, n, id)
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
