// Package sqlite is the embedded pending store: one SQLite file (pure Go
// driver, no cgo) in WAL mode, with its schema migrated in code on open.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	msqlite "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/sqlitedb"
)

var _ pending.Store = (*Store)(nil)

// Store is a pending.Store over one SQLite file.
type Store struct {
	db    *sql.DB
	hot   *sqlitedb.Stmts
	group *group
	index keyIndex // pending_keys in memory (index.go)
	rows  rowCache // pending rows' answers (rowcache.go)
	// indexFrom is the list length from which a query builds the index
	// (indexMinKeys; tests lower it to run every query through the index).
	indexFrom int
	pending.Keyring
}

// BusyTimeout is how long a write waits for another writer before failing.
const BusyTimeout = sqlitedb.BusyTimeout

// Open opens (creating when needed) the database file at path and migrates it.
//
// The file is created 0600 before SQLite opens it, and an existing one that
// others can read is tightened to 0600: SQLite creates a database with 0644
// less the umask, and its -wal and -shm files take the database's mode, so
// this one step keeps all three private whatever the umask.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, path, "pending store", migrations)
	if err != nil {
		return nil, err
	}
	hot := sqlitedb.NewStmts(db)
	s := &Store{db: db, hot: hot, indexFrom: indexMinKeys, rows: rowCache{limit: rowCacheLimit}}
	// A group that ran writes and did not commit may have taken seqs that
	// SQLite gives out again, which the index would then not tell from its own.
	s.group = newGroup(db, hot, s.index.doubt, s.countEnds)
	s.Keyring = pending.Keyring{Table: keyTable{db, hot, s.group}}
	return s, nil
}

// SchemaVersion reports the migrated schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// Ping implements pending.Store.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close implements pending.Store.
func (s *Store) Close() error {
	s.group.close()
	s.hot.Close()
	return s.db.Close()
}

func now() int64 { return time.Now().UnixMilli() }

// Create implements pending.Store.
func (s *Store) Create(ctx context.Context, tenant string, txs ...pending.NewTx) ([]string, error) {
	var ids []string
	err := s.write(ctx, "create pending tx", func(ctx context.Context, dbtx *sql.Tx) (err error) {
		defer func() {
			// Rolled back, it gives its seqs back: see keyIndex.
			if err != nil {
				s.index.doubt()
			}
		}()
		ids = make([]string, 0, len(txs))
		insTx, err := s.hot.Stmt(ctx, dbtx, `INSERT INTO txs
		(id, tenant, chain, serialized, hashes, idx, signatures, withdrawal_id, withdrawal_responses, created_at, seq_key, seq_num, state_at, replaces)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
			CASE WHEN ?14 IS NOT NULL THEN coalesce((SELECT r.replaces FROM txs r WHERE r.tenant = ?2 AND r.id = ?14), ?14) END)`)
		if err != nil {
			return err
		}
		insSig, err := s.hot.Stmt(ctx, dbtx, `INSERT OR IGNORE INTO pending_keys (k, seq) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		at := now()
		for _, t := range txs {
			id := pending.NewID()
			hj, sigs, wr, wid, idx := t.Stored()
			var seqKey, seqNum any
			if t.Sequence != nil {
				n, serialized, err := s.placeInSequence(ctx, dbtx, t)
				if err != nil {
					return err
				}
				t.SerializedTransaction, seqKey, seqNum = serialized, t.Sequence.Key.String(), n
			}
			res, err := insTx.ExecContext(ctx, id, tenant, t.Chain, t.SerializedTransaction, hj, idx, sigs, wid, wr, at, seqKey, seqNum, at, nullString(t.Replaces))
			if err != nil {
				return err
			}
			seq, err := res.LastInsertId()
			if err != nil {
				return err
			}
			sigIDs := t.SignatureIDs()
			keys := make([]int64, len(sigIDs))
			for i, sig := range sigIDs {
				keys[i] = pending.SigKey(tenant, t.Chain, sig)
				if _, err := insSig.ExecContext(ctx, keys[i], seq); err != nil {
					return err
				}
			}
			s.index.created(seq, keys)
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// placeInSequence allocates t's sequence or records its given one in the
// sequences table, inside the write that inserts t (SQLite runs one writer
// at a time, so the read and the update are one step), and returns the
// sequence and the transaction carrying it.
func (s *Store) placeInSequence(ctx context.Context, tx *sql.Tx, t pending.NewTx) (int64, string, error) {
	r := t.Sequence
	if r.Given != nil {
		n, err := pending.StoredSeq(*r.Given)
		if err != nil {
			return 0, "", err
		}
		_, err = s.hot.Exec(ctx, tx, `INSERT INTO sequences (seq_key, next) VALUES (?1, ?2 + 1)
			ON CONFLICT (seq_key) DO UPDATE SET next = max(next, ?2 + 1)`, r.Key.String(), n)
		return n, t.SerializedTransaction, err
	}
	floor, err := pending.StoredSeq(r.Floor)
	if err != nil {
		return 0, "", err
	}
	var n int64
	if err := s.hot.QueryRow(ctx, tx, `INSERT INTO sequences (seq_key, next) VALUES (?1, ?2 + 1)
		ON CONFLICT (seq_key) DO UPDATE SET next = max(next, ?2) + 1 RETURNING next - 1`, r.Key.String(), floor).Scan(&n); err != nil {
		return 0, "", err
	}
	serialized, err := r.Render(uint64(n))
	return n, serialized, err
}

// freeSequence frees the sequence a deleted or failed transaction held
// (pending.TxStore's Fail), after the row is marked. It runs in the write
// that marks it, so no allocation of the same sender interleaves.
func freeSequence(ctx context.Context, tx *sql.Tx, st txState) (*pending.Hole, error) {
	if !st.seqKey.Valid || st.failedAt.Valid {
		return nil, nil // not in a sequence, or freed when it failed
	}
	var (
		highest sql.NullInt64
		same    bool
	)
	if err := tx.QueryRowContext(ctx, `SELECT max(seq_num), coalesce(max(seq_num = ?2), 0) FROM txs
		WHERE seq_key = ?1 AND seq_key IS NOT NULL AND deleted_at IS NULL AND failed_at IS NULL`,
		st.seqKey.String, st.seqNum.Int64).Scan(&highest, &same); err != nil {
		return nil, err
	}
	switch {
	case same: // another live transaction holds the same sequence (both given)
		return nil, nil
	case !highest.Valid || highest.Int64 < st.seqNum.Int64:
		next := int64(0) // none live: the node's floor lifts it
		if highest.Valid {
			next = highest.Int64 + 1
		}
		_, err := tx.ExecContext(ctx, `UPDATE sequences SET next = ?2 WHERE seq_key = ?1 AND next > ?2`, st.seqKey.String, next)
		return nil, err
	}
	return st.hole()
}

const txColumns = `id, chain, serialized, hashes, idx, signatures, withdrawal_id, withdrawal_responses, tx_id`

type scanner interface{ Scan(dest ...any) error }

// scanTx reads txColumns, then the columns tail (when given) reads into.
func scanTx(r scanner, tail ...any) (pending.Tx, error) {
	var (
		t                   pending.Tx
		hashes              string
		idx                 sql.NullInt64
		sigs, wid, wr, txID sql.NullString
	)
	if err := r.Scan(append([]any{&t.ID, &t.Chain, &t.SerializedTransaction, &hashes, &idx, &sigs, &wid, &wr, &txID}, tail...)...); err != nil {
		return t, err
	}
	if err := json.Unmarshal([]byte(hashes), &t.Hashes); err != nil {
		return t, fmt.Errorf("stored hashes of %s: %w", t.ID, err)
	}
	if t.Hashes == nil {
		t.Hashes = []string{}
	}
	if idx.Valid {
		v := uint32(idx.Int64)
		t.Index = &v
	}
	if sigs.Valid {
		if err := json.Unmarshal([]byte(sigs.String), &t.Signatures); err != nil {
			return t, fmt.Errorf("stored signatures of %s: %w", t.ID, err)
		}
	}
	t.WithdrawalID = wid.String
	if wr.Valid {
		t.WithdrawalResponses = json.RawMessage(wr.String)
	}
	t.TxID = txID.String
	return t, nil
}

// Get implements pending.Store.
func (s *Store) Get(ctx context.Context, tenant, id string) (pending.Tx, error) {
	q, err := s.hot.Get(ctx, `SELECT `+txColumns+`, `+stateColumns+`
		FROM txs WHERE id = ? AND tenant = ? AND deleted_at IS NULL`)
	if err != nil {
		return pending.Tx{}, fmt.Errorf("get pending tx: %w", err)
	}
	row := q.QueryRowContext(ctx, id, tenant)
	var st stateRow
	t, err := scanTx(row, st.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return pending.Tx{}, pending.ErrNotFound
	}
	if err != nil {
		return pending.Tx{}, fmt.Errorf("get pending tx: %w", err)
	}
	st.fill(&t)
	return t, nil
}

// Pending implements pending.Store. With a signature list the pending index
// is probed once per distinct ID, or read whole when the list is longer than
// the index (match.go): the cost follows the list and the matches, never the
// number of stored transactions.
func (s *Store) Pending(ctx context.Context, q pending.PendingQuery) ([]pending.Tx, error) {
	if q.Claim != nil {
		return s.claim(ctx, q) // lease.go
	}
	if q.SignatureIDs != nil {
		if len(q.SignatureIDs) == 0 {
			return []pending.Tx{}, nil
		}
		return s.pendingByIDs(ctx, q)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+txColumns+` FROM txs
		WHERE tenant = ? AND chain = ? AND tx_id IS NULL AND deleted_at IS NULL AND failed_at IS NULL ORDER BY seq`, q.Tenant, q.Chain)
	if err != nil {
		return nil, fmt.Errorf("query pending txs: %w", err)
	}
	defer rows.Close()
	out := []pending.Tx{}
	for rows.Next() {
		t, err := scanTx(rows)
		if err != nil {
			return nil, fmt.Errorf("query pending txs: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query pending txs: %w", err)
	}
	return out, nil
}

// txState is the part of a row the write paths branch on.
type txState struct {
	seq       int64
	chain     string
	hashes    string
	sigs      sql.NullString
	txID      sql.NullString
	deletedAt sql.NullInt64
	failedAt  sql.NullInt64
	idx       sql.NullInt64
	seqKey    sql.NullString
	seqNum    sql.NullInt64
}

func (s *Store) loadState(ctx context.Context, tx *sql.Tx, tenant, id string) (txState, error) {
	var st txState
	err := s.hot.QueryRow(ctx, tx, `SELECT seq, chain, hashes, signatures, tx_id, deleted_at, failed_at, idx, seq_key, seq_num
		FROM txs WHERE id = ? AND tenant = ?`, id, tenant).
		Scan(&st.seq, &st.chain, &st.hashes, &st.sigs, &st.txID, &st.deletedAt, &st.failedAt, &st.idx, &st.seqKey, &st.seqNum)
	if errors.Is(err, sql.ErrNoRows) {
		return st, pending.ErrNotFound
	}
	return st, err
}

// hole is the freed sequence of the transaction with its wallet fields.
func (st txState) hole() (*pending.Hole, error) {
	var sigs *string
	if st.sigs.Valid {
		sigs = &st.sigs.String
	}
	var idx *int64
	if st.idx.Valid {
		idx = &st.idx.Int64
	}
	return pending.NewHole(st.seqKey.String, st.seqNum.Int64, st.hashes, idx, sigs)
}

// unindex removes a transaction from the pending index; end records it, for
// the index in memory once the write commits (writeEnding).
func (s *Store) unindex(ctx context.Context, tx *sql.Tx, tenant string, st txState, end *ended) error {
	var ids []string
	if err := json.Unmarshal([]byte(st.hashes), &ids); err != nil {
		return err
	}
	if st.sigs.Valid {
		var sigs []pending.Signature
		if err := json.Unmarshal([]byte(st.sigs.String), &sigs); err != nil {
			return err
		}
		for _, sg := range sigs {
			ids = append(ids, sg.ID)
		}
	}
	keys := make([]int64, len(ids))
	for i, id := range ids {
		keys[i] = pending.SigKey(tenant, st.chain, id)
		if _, err := s.hot.Exec(ctx, tx, `DELETE FROM pending_keys WHERE k = ? AND seq = ?`, keys[i], st.seq); err != nil {
			return err
		}
	}
	*end = ended{seq: st.seq, keys: keys}
	return nil
}

// countEnds is the group's mark: a commit that may end pending transactions
// counts once in pending_ends, and its ends learn the count (writeEnding).
func (s *Store) countEnds(ctx context.Context, tx *sql.Tx) (int64, error) {
	var n int64
	err := s.hot.QueryRow(ctx, tx, `UPDATE pending_ends SET n = n + 1 RETURNING n`).Scan(&n)
	return n, err
}

// ended is what a write that ended a pending transaction tells the index
// in memory and the row cache once it is committed: the transaction and
// the keys it unindexed (none when it ended none).
type ended struct {
	seq  int64
	keys []int64
}

// writeEnding is write for a write that may end a pending transaction
// (unindex fills end): its commit counts in pending_ends (countEnds), and
// once it is done, before the next commit of this store, the index in
// memory learns the count and forgets the transaction, and so does the row
// cache.
func (s *Store) writeEnding(ctx context.Context, op string, end *ended, f func(context.Context, *sql.Tx) error) error {
	return s.wrap(op, s.group.writeThen(ctx, f, func(n int64) {
		s.index.ended(end.seq, end.keys, n)
		if end.keys != nil {
			s.rows.drop(end.seq)
		}
	}))
}

// write runs f in a write transaction, shared with the concurrent writes of
// others (group): f must use the ctx it is given, and its error rolls back
// its own writes only.
func (s *Store) write(ctx context.Context, op string, f func(context.Context, *sql.Tx) error) error {
	return s.wrap(op, s.group.write(ctx, f))
}

// wrap names op in a write's error, unless it is one of the store's own.
func (s *Store) wrap(op string, err error) error {
	if err == nil || errors.Is(err, pending.ErrNotFound) || errors.Is(err, pending.ErrDeleted) ||
		errors.Is(err, pending.ErrCompleted) || errors.Is(err, pending.ErrTxIDConflict) ||
		errors.Is(err, pending.ErrKeyNotFound) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// SetTxData implements pending.Store. The common case, a pending
// transaction, is one conditional UPDATE; only when it changes nothing is
// the row read to tell why.
func (s *Store) SetTxData(ctx context.Context, tenant, id, txData string) error {
	return s.write(ctx, "store signed tx", func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.hot.Exec(ctx, tx, `UPDATE txs SET tx_data = ?, state_at = CASE WHEN tx_data IS NULL THEN ? ELSE state_at END
			WHERE id = ? AND tenant = ? AND tx_id IS NULL AND deleted_at IS NULL`, txData, now(), id, tenant)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var deleted bool
		err = tx.QueryRowContext(ctx, `SELECT deleted_at IS NOT NULL FROM txs WHERE id = ? AND tenant = ?`, id, tenant).Scan(&deleted)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && deleted) {
			return pending.ErrNotFound
		}
		return err // nil when completed: it keeps its first txData
	})
}

// TxData implements pending.Store.
func (s *Store) TxData(ctx context.Context, tenant, id string) (string, error) {
	var d sql.NullString
	err := s.hot.QueryRow(ctx, nil, `SELECT tx_data FROM txs WHERE id = ? AND tenant = ?`, id, tenant).Scan(&d)
	if errors.Is(err, sql.ErrNoRows) {
		return "", pending.ErrNotFound
	}
	return d.String, err
}

// Complete implements pending.Store.
func (s *Store) Complete(ctx context.Context, tenant, id, txID string) error {
	complete, err := s.hot.Get(ctx, `UPDATE txs SET tx_id = ?, state_at = ?, track_next_at = ?, lease_owner = NULL, lease_until = NULL
			WHERE id = ? AND tenant = ? AND tx_id IS NULL AND deleted_at IS NULL
			RETURNING seq, chain, hashes, signatures`)
	if err != nil {
		return fmt.Errorf("complete pending tx: %w", err)
	}
	var end ended
	return s.writeEnding(ctx, "complete pending tx", &end, func(ctx context.Context, tx *sql.Tx) error {
		// A pending row, the common case, is completed by the first statement.
		var st txState
		// It becomes due for the outcome tracker at once, and a signer's
		// lease, which only a pending row needs, is dropped for the tracker's.
		at := now()
		err := tx.StmtContext(ctx, complete).QueryRowContext(ctx, txID, at, at, id, tenant).Scan(&st.seq, &st.chain, &st.hashes, &st.sigs)
		if err == nil {
			if err := s.unindex(ctx, tx, tenant, st, &end); err != nil {
				return err
			}
			return s.emit(ctx, tx, tenant, st.seq, id, pending.EventCompleted, pending.EventBody(pending.EventCompleted, id, txID))
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if st, err = s.loadState(ctx, tx, tenant, id); err != nil {
			return err
		}
		switch {
		case st.deletedAt.Valid:
			return pending.ErrDeleted
		case st.txID.Valid && st.txID.String == txID:
			return nil
		}
		return pending.ErrTxIDConflict
	})
}

// retire ends a transaction that is neither deleted nor completed: mark
// records how (and reports done when there is nothing left to do), then the
// row leaves the pending index and its sequence is freed.
func (s *Store) retire(ctx context.Context, tx *sql.Tx, tenant, id string, end *ended, mark func(txState) (done bool, err error)) (*pending.Hole, error) {
	st, err := s.loadState(ctx, tx, tenant, id)
	if err != nil {
		return nil, err
	}
	switch {
	case st.deletedAt.Valid:
		return nil, pending.ErrNotFound
	case st.txID.Valid:
		return nil, pending.ErrCompleted
	}
	if done, err := mark(st); err != nil || done {
		return nil, err
	}
	if err := s.unindex(ctx, tx, tenant, st, end); err != nil {
		return nil, err
	}
	return freeSequence(ctx, tx, st)
}

// Delete implements pending.Store.
func (s *Store) Delete(ctx context.Context, tenant, id string, revert bool) (hole *pending.Hole, err error) {
	var end ended
	err = s.writeEnding(ctx, "delete pending tx", &end, func(ctx context.Context, tx *sql.Tx) (err error) {
		hole, err = s.retire(ctx, tx, tenant, id, &end, func(st txState) (bool, error) {
			_, err := tx.ExecContext(ctx, `UPDATE txs SET deleted_at = ?, revert = ? WHERE seq = ?`, now(), revert, st.seq)
			return false, err
		})
		return err
	})
	return hole, err
}

// Fail implements pending.Store.
func (s *Store) Fail(ctx context.Context, tenant, id, reason string) (hole *pending.Hole, err error) {
	var end ended
	err = s.writeEnding(ctx, "fail pending tx", &end, func(ctx context.Context, tx *sql.Tx) (err error) {
		hole, err = s.retire(ctx, tx, tenant, id, &end, func(st txState) (bool, error) {
			if st.failedAt.Valid {
				return true, nil
			}
			at := now()
			if _, err := tx.ExecContext(ctx, `UPDATE txs SET failed_at = ?, state_at = ?, fail_state = ?, lease_owner = NULL, lease_until = NULL WHERE seq = ?`,
				at, at, string(pending.FailState(reason)), st.seq); err != nil {
				return false, err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO tx_errors (seq, at, message) VALUES (?, ?, ?)`, st.seq, at, reason); err != nil {
				return false, err
			}
			for _, e := range pending.FailEvents(id, reason) {
				if err := s.emit(ctx, tx, tenant, st.seq, id, e.Type, e.Body); err != nil {
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
		wid sql.NullString
		at  sql.NullInt64
		rev sql.NullBool
	)
	err := s.db.QueryRowContext(ctx, `SELECT id, withdrawal_id, deleted_at, revert FROM txs WHERE id = ? AND tenant = ?`, id, tenant).
		Scan(&d.ID, &wid, &at, &rev)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !at.Valid) {
		return pending.Deletion{}, pending.ErrNotFound
	}
	if err != nil {
		return pending.Deletion{}, fmt.Errorf("get deletion: %w", err)
	}
	d.WithdrawalID, d.Revert, d.DeletedAt = wid.String, rev.Bool, time.UnixMilli(at.Int64)
	return d, nil
}

// RecordErrors implements pending.Store.
func (s *Store) RecordErrors(ctx context.Context, tenant string, errs []pending.TxError) (int, error) {
	known := 0
	err := s.write(ctx, "record signer errors", func(ctx context.Context, tx *sql.Tx) error {
		at := now()
		for _, e := range errs {
			var (
				seq  int64
				last sql.NullString
			)
			err := tx.QueryRowContext(ctx, `SELECT t.seq, (SELECT e.message FROM tx_errors e WHERE e.seq = t.seq ORDER BY e.rowid DESC LIMIT 1)
				FROM txs t WHERE t.id = ? AND t.tenant = ?`, e.ID, tenant).Scan(&seq, &last)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO tx_errors (seq, at, message) VALUES (?, ?, ?)`, seq, at, e.Message); err != nil {
				return err
			}
			known++
			if pending.RepeatedReport(last.Valid, last.String, e.Message) {
				continue
			}
			if err := s.emit(ctx, tx, tenant, seq, e.ID, pending.EventFailed, pending.EventBody(pending.EventFailed, e.ID, e.Message)); err != nil {
				return err
			}
		}
		return nil
	})
	return known, err
}

// Errors implements pending.Store.
func (s *Store) Errors(ctx context.Context, tenant, id string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.message FROM tx_errors e JOIN txs t ON t.seq = e.seq
		WHERE t.id = ? AND t.tenant = ? ORDER BY e.rowid`, id, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// LastError implements pending.Store.
func (s *Store) LastError(ctx context.Context, tenant, id string) (string, int, error) {
	var (
		last  sql.NullString
		count int
	)
	err := s.hot.QueryRow(ctx, nil, `SELECT count(*), (SELECT e.message FROM tx_errors e WHERE e.seq = t.seq ORDER BY e.rowid DESC LIMIT 1)
		FROM txs t JOIN tx_errors e ON e.seq = t.seq WHERE t.id = ? AND t.tenant = ?`, id, tenant).Scan(&count, &last)
	if err != nil {
		return "", 0, fmt.Errorf("get last signer error: %w", err)
	}
	return last.String, count, nil
}

// NextSequence implements pending.Store.
func (s *Store) NextSequence(ctx context.Context, key pending.SeqKey) (uint64, error) {
	var next int64
	err := s.db.QueryRowContext(ctx, `SELECT next FROM sequences WHERE seq_key = ?`, key.String()).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read next sequence: %w", err)
	}
	return uint64(next), nil
}

// keyTable is the api_keys table for pending.Keyring.
type keyTable struct {
	db    *sql.DB
	hot   *sqlitedb.Stmts
	group *group
}

// InsertKey implements pending.KeyTable.
func (t keyTable) InsertKey(ctx context.Context, k pending.APIKey) (pending.APIKey, error) {
	k.CreatedAt = time.UnixMilli(now())
	_, err := t.db.ExecContext(ctx, `INSERT INTO api_keys (id, name, secret_hash, testnet, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, k.SecretHash[:], k.Testnet, k.Scopes.String(), k.CreatedAt.UnixMilli())
	if se := (*msqlite.Error)(nil); errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return k, pending.ErrKeyExists
	}
	return k, err
}

// SelectKeys implements pending.KeyTable.
func (t keyTable) SelectKeys(ctx context.Context, byHash *[32]byte) ([]pending.APIKey, error) {
	const cols = `SELECT id, secret_hash, name, testnet, scopes, credits, created_at, revoked_at FROM api_keys`
	var (
		rows *sql.Rows
		err  error
	)
	if byHash != nil {
		// Every request's look-up: a kept statement.
		var q *sql.Stmt
		if q, err = t.hot.Get(ctx, cols+` WHERE secret_hash = ? AND revoked_at IS NULL`); err == nil {
			rows, err = q.QueryContext(ctx, byHash[:])
		}
	} else {
		rows, err = t.db.QueryContext(ctx, cols+` ORDER BY created_at, id`)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pending.APIKey
	for rows.Next() {
		var (
			k       pending.APIKey
			hash    []byte
			scopes  string
			created int64
			revoked sql.NullInt64
		)
		if err := rows.Scan(&k.ID, &hash, &k.Name, &k.Testnet, &scopes, &k.Credits, &created, &revoked); err != nil {
			return nil, err
		}
		if k.Scopes, err = pending.ParseScopes(scopes); err != nil {
			return nil, fmt.Errorf("api key %s: %w", k.ID, err)
		}
		copy(k.SecretHash[:], hash)
		k.CreatedAt = time.UnixMilli(created)
		if revoked.Valid {
			at := time.UnixMilli(revoked.Int64)
			k.RevokedAt = &at
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeKey implements pending.KeyTable.
func (t keyTable) RevokeKey(ctx context.Context, id string) (bool, error) {
	res, err := t.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, now(), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// AddCredits implements pending.KeyTable.
func (t keyTable) AddCredits(ctx context.Context, id string, n int64) error {
	return t.group.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := t.hot.Exec(ctx, tx, `UPDATE api_keys SET credits = credits + ? WHERE id = ?`, n, id)
		return err
	})
}
