// Package sqlite is the approver's embedded store: one SQLite file (pure Go
// driver) in WAL mode, its own database apart from the pending store's.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	msqlite "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/approver"
	"github.com/custoskms/custos/internal/sqlitedb"
)

var _ approver.Store = (*Store)(nil)

// Store is an approver.Store over one SQLite file.
type Store struct {
	db *sql.DB
	// wlock (capacity 1) lets one write at a time reach SQLite. SQLite has
	// one writer anyway, and a writer that finds it busy sleeps in its busy
	// handler (for up to tens of milliseconds a try) where a channel hands
	// over at once: the daemon's parallel requests otherwise spend most of
	// their time asleep. A channel rather than a mutex, so that a Record
	// waits for the lock or for another writer to have written it, whichever
	// comes first (see Record).
	wlock chan struct{}

	qmu sync.Mutex // guards queue
	// queue holds the Records waiting for the next group write.
	queue []*asked

	// hot are the statements of the daemon's every request, compiled once:
	// the pure Go SQLite compiles a statement at about the cost of running
	// it.
	hot *sqlitedb.Stmts
}

// lock takes the write lock, or gives up with ctx.
func (s *Store) lock(ctx context.Context) error {
	select {
	case s.wlock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlock() { <-s.wlock }

func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.unlock()
	return s.db.ExecContext(ctx, q, args...)
}

// begin starts a write transaction holding the write lock until end.
func (s *Store) begin(ctx context.Context) (*sql.Tx, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		s.unlock()
	}
	return tx, err
}

// end rolls back tx unless it committed, and releases the write lock.
func (s *Store) end(tx *sql.Tx) {
	_ = tx.Rollback()
	s.unlock()
}

// migrations are applied in order; PRAGMA user_version counts those done.
var migrations = []string{`
CREATE TABLE operators (
	name TEXT PRIMARY KEY,
	display_name TEXT NOT NULL,
	handle BLOB NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
);
CREATE TABLE credentials (
	id BLOB PRIMARY KEY,
	operator TEXT NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
	data BLOB NOT NULL
);
CREATE INDEX credentials_operator ON credentials(operator);
CREATE TABLE enrolments (
	operator TEXT PRIMARY KEY REFERENCES operators(name) ON DELETE CASCADE,
	token_hash BLOB NOT NULL UNIQUE,
	expires_at INTEGER NOT NULL
);
CREATE TABLE requests (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	id TEXT NOT NULL,
	digest TEXT NOT NULL,
	chain TEXT NOT NULL,
	body TEXT NOT NULL,
	need TEXT NOT NULL,
	status TEXT NOT NULL,
	first_seen INTEGER NOT NULL,
	last_asked INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (id, digest)
);
CREATE INDEX requests_queue ON requests(status, updated_at DESC);
CREATE INDEX requests_updated ON requests(updated_at DESC);
CREATE TABLE decisions (
	id TEXT NOT NULL,
	digest TEXT NOT NULL,
	operator TEXT NOT NULL,
	decision TEXT NOT NULL,
	reason TEXT NOT NULL,
	at INTEGER NOT NULL,
	PRIMARY KEY (id, digest, operator)
);
CREATE TABLE sessions (
	hash BLOB PRIMARY KEY,
	operator TEXT NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
	csrf TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	last_seen INTEGER NOT NULL
);
`, `
CREATE TABLE history (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT NOT NULL,
	at INTEGER NOT NULL,
	operator TEXT NOT NULL,
	id TEXT NOT NULL,
	chain TEXT NOT NULL,
	decision TEXT NOT NULL,
	outcome TEXT NOT NULL,
	reason TEXT NOT NULL,
	remote TEXT NOT NULL
);
-- Decisions taken before the history existed (their outcome was not kept
-- per decision; sign-ins before it are in the audit log only).
INSERT INTO history (kind, at, operator, id, chain, decision, outcome, reason, remote)
	SELECT 'decision', d.at, d.operator, d.id, r.chain, d.decision, '', d.reason, ''
	FROM decisions d JOIN requests r ON r.id = d.id AND r.digest = d.digest ORDER BY d.at, d.operator;
CREATE TABLE operator_api_keys (
	operator TEXT NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
	api_key_id TEXT NOT NULL,
	PRIMARY KEY (operator, api_key_id)
);
`}

// Open opens (creating when needed) the database file at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, path, "approver store", migrations)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, wlock: make(chan struct{}, 1), hot: sqlitedb.NewStmts(db)}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.hot.Close()
	return s.db.Close()
}

func unique(err error) bool {
	var e *msqlite.Error
	return errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE)
}

func ns(t time.Time) int64 { return t.UnixNano() }
func at(n int64) time.Time { return time.Unix(0, n).UTC() }
func nf(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return approver.ErrOperatorNotFound
	}
	return err
}

// AddOperator implements approver.Store.
func (s *Store) AddOperator(ctx context.Context, op approver.Operator) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer s.end(tx)
	_, err = tx.ExecContext(ctx, `INSERT INTO operators (name, display_name, handle, created_at) VALUES (?, ?, ?, ?)`,
		op.Name, op.DisplayName, op.Handle, ns(op.CreatedAt))
	if unique(err) {
		return approver.ErrOperatorExists
	}
	if err != nil {
		return err
	}
	for _, k := range op.APIKeys {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO operator_api_keys (operator, api_key_id) VALUES (?, ?)`, op.Name, k); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// RemoveOperator implements approver.Store; passkeys, enrolment and
// sessions go with the operator (ON DELETE CASCADE).
func (s *Store) RemoveOperator(ctx context.Context, name string) error {
	res, err := s.exec(ctx, `DELETE FROM operators WHERE name = ?`, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return approver.ErrOperatorNotFound
	}
	return nil
}

const operatorCols = `o.name, o.display_name, o.handle, o.created_at, (SELECT count(*) FROM credentials c WHERE c.operator = o.name),
	(SELECT group_concat(api_key_id, ',') FROM (SELECT api_key_id FROM operator_api_keys k WHERE k.operator = o.name ORDER BY api_key_id))`

func scanOperator(row interface{ Scan(...any) error }) (approver.Operator, error) {
	var op approver.Operator
	var created int64
	var keys sql.NullString
	err := row.Scan(&op.Name, &op.DisplayName, &op.Handle, &created, &op.Passkeys, &keys)
	op.CreatedAt = at(created)
	if keys.String != "" {
		// API key ids are [0-9a-zA-Z]: a comma cannot be in one.
		op.APIKeys = strings.Split(keys.String, ",")
	}
	return op, err
}

// Operators implements approver.Store.
func (s *Store) Operators(ctx context.Context) ([]approver.Operator, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+operatorCols+` FROM operators o ORDER BY o.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return approver.ReadAll(rows, func() (approver.Operator, error) { return scanOperator(rows) })
}

// Operator implements approver.Store.
func (s *Store) Operator(ctx context.Context, name string) (approver.Operator, error) {
	op, err := scanOperator(s.db.QueryRowContext(ctx, `SELECT `+operatorCols+` FROM operators o WHERE o.name = ?`, name))
	return op, nf(err)
}

// OperatorByHandle implements approver.Store.
func (s *Store) OperatorByHandle(ctx context.Context, handle []byte) (approver.Operator, error) {
	op, err := scanOperator(s.db.QueryRowContext(ctx, `SELECT `+operatorCols+` FROM operators o WHERE o.handle = ?`, handle))
	return op, nf(err)
}

// SetEnrolment implements approver.Store.
func (s *Store) SetEnrolment(ctx context.Context, operator string, tokenHash []byte, expires time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO enrolments (operator, token_hash, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (operator) DO UPDATE SET token_hash = excluded.token_hash, expires_at = excluded.expires_at`,
		operator, tokenHash, ns(expires))
	if err != nil && strings.Contains(err.Error(), "FOREIGN KEY") {
		return approver.ErrOperatorNotFound
	}
	return err
}

// Enrolment implements approver.Store.
func (s *Store) Enrolment(ctx context.Context, tokenHash []byte, now time.Time) (string, error) {
	var op string
	err := s.db.QueryRowContext(ctx, `SELECT operator FROM enrolments WHERE token_hash = ? AND expires_at > ?`, tokenHash, ns(now)).Scan(&op)
	if errors.Is(err, sql.ErrNoRows) {
		return "", approver.ErrNoEnrolment
	}
	return op, err
}

// AddCredential implements approver.Store.
func (s *Store) AddCredential(ctx context.Context, operator string, id, data []byte) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer s.end(tx)
	res, err := tx.ExecContext(ctx, `DELETE FROM enrolments WHERE operator = ?`, operator)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// The enrolment was used or replaced meanwhile.
		return approver.ErrNoEnrolment
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO credentials (id, operator, data) VALUES (?, ?, ?)`, id, operator, data); err != nil {
		return err
	}
	return tx.Commit()
}

// UpdateCredential implements approver.Store.
func (s *Store) UpdateCredential(ctx context.Context, id, data []byte) error {
	_, err := s.exec(ctx, `UPDATE credentials SET data = ? WHERE id = ?`, data, id)
	return err
}

// Credentials implements approver.Store.
func (s *Store) Credentials(ctx context.Context, operator string) ([][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM credentials WHERE operator = ? ORDER BY rowid`, operator)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// asked is one Record waiting for a group write.
type asked struct {
	req      approval.Request
	need     approver.Need
	settle   *approver.Settlement
	now      time.Time
	body, nb []byte
	// Set by the write, before done is closed.
	existed bool
	audited bool // settle.Audit succeeded: not called again
	err     error
	done    chan struct{}
}

// Record implements approver.Store.
//
// The daemon asks from many workers at once, and a write transaction's
// cost (its lock, its WAL frames) is mostly per transaction, not per row.
// So Records are grouped: each joins the queue, then either takes the
// write lock and writes everything queued in one transaction (its own
// request among them), or finds that a writer before it did.
func (s *Store) Record(ctx context.Context, req approval.Request, need approver.Need, settle *approver.Settlement, now time.Time) (approver.Tx, error) {
	body, nb, err := approver.EncodeRequest(req, need)
	if err != nil {
		return approver.Tx{}, err
	}
	a := &asked{req: req, need: need, settle: settle, now: now, body: body, nb: nb, done: make(chan struct{})}
	s.qmu.Lock()
	s.queue = append(s.queue, a)
	s.qmu.Unlock()
	select {
	case <-a.done:
	case s.wlock <- struct{}{}:
		s.qmu.Lock()
		group := s.queue
		s.queue = nil
		s.qmu.Unlock()
		// The group's writes are other callers' too: one caller's
		// cancellation does not abandon them.
		s.recordGroup(context.WithoutCancel(ctx), group)
		s.unlock()
		<-a.done // written by this group or by one before it
	case <-ctx.Done():
		// Still queued: the next group writes it, as if asked and not
		// answered.
		return approver.Tx{}, ctx.Err()
	}
	if a.err != nil {
		return approver.Tx{}, a.err
	}
	return s.recorded(ctx, a)
}

// recorded is the state a written Record leads to.
func (s *Store) recorded(ctx context.Context, a *asked) (approver.Tx, error) {
	if a.existed {
		return s.one(ctx, `WHERE id = ? AND digest = ?`, a.req.ID, a.req.Digest)
	}
	return approver.Recorded(a.req, a.need, a.settle, a.now), nil
}

// RecordAll implements approver.Store: the batch is a group already, written
// in one transaction of its own.
func (s *Store) RecordAll(ctx context.Context, rs []approver.Recording, audit func(context.Context, []int) error) ([]approver.Tx, error) {
	group := make([]*asked, len(rs))
	at := make(map[*asked]int, len(rs))
	for i, r := range rs {
		body, nb, err := approver.EncodeRequest(r.Req, r.Need)
		if err != nil {
			return nil, err
		}
		group[i] = &asked{req: r.Req, need: r.Need, settle: r.Settle, now: r.Now, body: body, nb: nb}
		at[group[i]] = i
	}
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	err := s.recordTx(ctx, group, func(ctx context.Context, settled []*asked) error {
		idx := make([]int, len(settled))
		for j, a := range settled {
			idx[j] = at[a]
		}
		return audit(ctx, idx)
	})
	s.unlock()
	if err != nil {
		return nil, err
	}
	out := make([]approver.Tx, len(group))
	for i, a := range group {
		if out[i], err = s.recorded(ctx, a); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// recordGroup writes group in one transaction, holding the write lock, and
// closes each one's done. Should the transaction fail, each is written in
// a transaction of its own, so that one request's error is its own.
func (s *Store) recordGroup(ctx context.Context, group []*asked) {
	if len(group) == 0 {
		return
	}
	defer func() {
		for _, a := range group {
			close(a.done)
		}
	}()
	if s.recordTx(ctx, group, auditAll) == nil || len(group) == 1 {
		return
	}
	for _, a := range group {
		_ = s.recordTx(ctx, []*asked{a}, auditAll)
	}
}

// recordTx writes group in one transaction, calling audit with those it
// stores settled before it commits; on failure every one of them carries
// the error.
func (s *Store) recordTx(ctx context.Context, group []*asked, audit func(context.Context, []*asked) error) (err error) {
	defer func() {
		for _, a := range group {
			a.err = err
		}
	}()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.recordAll(ctx, tx, group); err != nil {
		return err
	}
	var settled []*asked
	for _, a := range group {
		if !a.existed && a.settle != nil {
			settled = append(settled, a)
		}
	}
	// Audited before the outcomes commit (approver.Settlement).
	if len(settled) > 0 {
		if err := audit(ctx, settled); err != nil {
			return err
		}
	}
	es := make([]approver.HistoryEntry, len(settled))
	for i, a := range settled {
		es[i] = approver.RuleEntry(a.req.ID, a.req.Chain, a.need.Rule, a.settle.Outcome, a.now)
	}
	if err := s.addHistories(ctx, tx, es); err != nil {
		return err
	}
	return tx.Commit()
}

// auditAll runs the Audits of settled at once, so that the audit log writes
// them together (it groups concurrent appends into one write and fsync),
// each once even when its group is written again one by one.
func auditAll(ctx context.Context, settled []*asked) error {
	errs := make([]error, len(settled))
	var wg sync.WaitGroup
	for i, a := range settled {
		if a.audited {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = a.settle.Audit(ctx)
			a.audited = errs[i] == nil
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Tx implements approver.Store.
func (s *Store) Tx(ctx context.Context, id string) (approver.Tx, error) {
	return s.one(ctx, `WHERE id = ? ORDER BY seq DESC LIMIT 1`, id)
}

func (s *Store) one(ctx context.Context, where string, args ...any) (approver.Tx, error) {
	return approver.First(s.list(ctx, where, args...))
}

// Queue implements approver.Store.
func (s *Store) Queue(ctx context.Context, f approver.Filter) ([]approver.Tx, error) {
	where, args := f.Where(true, placeholder)
	return s.list(ctx, where+" ORDER BY updated_at DESC, seq DESC LIMIT ?", append(args, f.QueueLimit())...)
}

// Count implements approver.Store.
func (s *Store) Count(ctx context.Context, f approver.Filter) (int, error) {
	where, args := f.Where(false, placeholder)
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM requests `+where, args...).Scan(&n)
	return n, err
}

func placeholder(int) string { return "?" }

// list reads requests and, in one more query, their decisions.
func (s *Store) list(ctx context.Context, where string, args ...any) ([]approver.Tx, error) {
	// where is one of the few this file writes: each is prepared once.
	rows, err := s.hot.Query(ctx, nil, `SELECT seq, id, digest, body, need, status, first_seen, last_asked, updated_at FROM requests `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out, err := approver.ReadTxs(rows)
	if err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]any, 0, len(out))
	for _, t := range out {
		ids = append(ids, t.Request.ID)
	}
	q := s.db.QueryContext
	if len(ids) == 1 {
		// One request's, asked for at every daemon request.
		q = func(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
			return s.hot.Query(ctx, nil, query, args...)
		}
	}
	drows, err := q(ctx, `SELECT id, digest, operator, decision, reason, at FROM decisions WHERE id IN (?`+
		strings.Repeat(",?", len(ids)-1)+`) ORDER BY at, operator`, ids...)
	if err != nil {
		return nil, err
	}
	defer drows.Close()
	return out, approver.AddDecisions(out, drows)
}

// Decide implements approver.Store. The write lock and SQLite's one writer
// make the transaction serial: the decisions it reads after its insert are
// every decision stored.
func (s *Store) Decide(ctx context.Context, d approver.Decision, commit func(approver.Status) error) (approver.Status, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return "", err
	}
	defer s.end(tx)
	var status approver.Status
	var chain string
	var nb []byte
	err = tx.QueryRowContext(ctx, `SELECT status, chain, need FROM requests WHERE id = ? AND digest = ?`, d.ID, d.Digest).Scan(&status, &chain, &nb)
	if errors.Is(err, sql.ErrNoRows) {
		return "", approver.ErrRequestNotFound
	}
	if err != nil {
		return "", err
	}
	if status != approver.StatusPending {
		return "", approver.ErrClosed
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO decisions (id, digest, operator, decision, reason, at) VALUES (?, ?, ?, ?, ?, ?)`,
		d.ID, d.Digest, d.Operator, d.Decision, d.Reason, ns(d.At))
	if unique(err) {
		return "", approver.ErrAlreadyDecided
	}
	if err != nil {
		return "", err
	}
	ds, err := decisions(ctx, tx, d.ID, d.Digest)
	if err != nil {
		return "", err
	}
	outcome, err := approver.Settle(d.ID, nb, ds)
	if err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE requests SET status = ?, updated_at = ? WHERE id = ? AND digest = ?`,
		outcome, ns(d.At), d.ID, d.Digest); err != nil {
		return "", err
	}
	if err := s.addHistory(ctx, tx, approver.HistoryEntry{Kind: approver.HistoryDecision, At: d.At, Operator: d.Operator,
		ID: d.ID, Chain: chain, Decision: d.Decision, Outcome: outcome, Reason: d.Reason}); err != nil {
		return "", err
	}
	if commit != nil {
		if err := commit(outcome); err != nil {
			return "", err
		}
	}
	return outcome, tx.Commit()
}

// decisions reads the decisions stored on (id, digest) in tx.
func decisions(ctx context.Context, tx *sql.Tx, id, digest string) ([]approver.Decision, error) {
	rows, err := tx.QueryContext(ctx, `SELECT operator, decision, reason, at FROM decisions WHERE id = ? AND digest = ? ORDER BY at, operator`, id, digest)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return approver.ReadDecisions(rows, id, digest)
}

func (s *Store) addHistory(ctx context.Context, tx *sql.Tx, e approver.HistoryEntry) error {
	_, err := s.hot.Exec(ctx, tx, `INSERT INTO history (kind, at, operator, id, chain, decision, outcome, reason, remote)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.Kind, ns(e.At), e.Operator, e.ID, e.Chain, e.Decision, e.Outcome, e.Reason, e.Remote)
	return err
}

// History implements approver.Store.
func (s *Store) History(ctx context.Context, p approver.HistoryPage) ([]approver.HistoryEntry, error) {
	before, limit := p.Bounds()
	rows, err := s.db.QueryContext(ctx, `SELECT seq, kind, at, operator, id, chain, decision, outcome, reason, remote
		FROM history WHERE seq < ? ORDER BY seq DESC LIMIT ?`, before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return approver.ReadHistory(rows)
}

// SetStatus implements approver.Store.
// A settled outcome is a rule's decision in the history.
func (s *Store) SetStatus(ctx context.Context, id, digest string, st approver.Status, now time.Time) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer s.end(tx)
	var chain string
	var nb []byte
	err = tx.QueryRowContext(ctx, `UPDATE requests SET status = ?, updated_at = ? WHERE id = ? AND digest = ? AND status = ?
		RETURNING chain, need`, st, ns(now), id, digest, approver.StatusPending).Scan(&chain, &nb)
	if errors.Is(err, sql.ErrNoRows) {
		// Settled meanwhile (or never stored): nothing changed.
		return nil
	}
	if err != nil {
		return err
	}
	e, err := approver.RuleDecision(id, chain, nb, st, now)
	if err != nil {
		return err
	}
	if err := s.addHistory(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit()
}

// CreateSession implements approver.Store.
func (s *Store) CreateSession(ctx context.Context, ss approver.Session) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer s.end(tx)
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (hash, operator, csrf, created_at, last_seen) VALUES (?, ?, ?, ?, ?)`,
		ss.Hash, ss.Operator, ss.CSRF, ns(ss.CreatedAt), ns(ss.LastSeen)); err != nil {
		return err
	}
	if err := s.addHistory(ctx, tx, approver.HistoryEntry{Kind: approver.HistorySignin, At: ss.CreatedAt,
		Operator: ss.Operator, Remote: ss.Remote}); err != nil {
		return err
	}
	return tx.Commit()
}

// Session implements approver.Store.
func (s *Store) Session(ctx context.Context, hash []byte) (approver.Session, error) {
	ss := approver.Session{Hash: hash}
	var created, seen int64
	err := s.db.QueryRowContext(ctx, `SELECT operator, csrf, created_at, last_seen FROM sessions WHERE hash = ?`, hash).
		Scan(&ss.Operator, &ss.CSRF, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return approver.Session{}, approver.ErrNoSession
	}
	ss.CreatedAt, ss.LastSeen = at(created), at(seen)
	return ss, err
}

// TouchSession implements approver.Store.
func (s *Store) TouchSession(ctx context.Context, hash []byte, t time.Time) error {
	_, err := s.exec(ctx, `UPDATE sessions SET last_seen = ? WHERE hash = ?`, ns(t), hash)
	return err
}

// DeleteSession implements approver.Store.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := s.exec(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	return err
}
