package daemon

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"

	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"

	"github.com/custoskms/custos/internal/groupcommit"
	"github.com/custoskms/custos/internal/harden"
	"github.com/custoskms/custos/internal/policy"
)

// Entry is one signed transaction in the ledger.
type Entry struct {
	ID     string // pending transaction id
	Chain  string
	TxData string // the signed transaction, exactly as submitted
	TxID   string // the chain's id of TxData, as the signer computed it
	// Failure is the reason the transaction's attempts ended (a node refusal
	// no retry heals); empty while it may still be submitted.
	Failure string
	// Spends are what the transaction uses of the policy's daily limits,
	// recorded in the same commit as the signature (so that nothing is
	// signed without being counted); Record only, Lookup leaves it empty.
	Spends []policy.Spend
}

// Ledger is the local record of every pending transaction this signer has
// signed. An entry is committed and fsynced before its transaction is
// submitted, so a daemon killed between signing and submitting re-submits the
// same bytes after a restart instead of signing again: one pending transaction
// never becomes two different chain transactions.
//
// The ledger is a SQLite file (WAL, synchronous=FULL) guarded by an exclusive
// lock file beside it, so two daemon processes never work from one ledger.
// Writes from concurrent signers are grouped into one commit (one fsync).
type Ledger struct {
	db   *sql.DB
	lock *flock.Flock
	// insSigned and insSpent are commitGroup's statements, compiled once on
	// the ledger's one connection: compiling them per commit cost as much as
	// the inserts.
	insSigned, insSpent *sql.Stmt

	reqs      chan ledgerReq
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

type ledgerReq struct {
	e     Entry
	reply chan ledgerReply
}

type ledgerReply struct {
	stored Entry
	err    error
}

// maxGroup bounds how many entries one commit carries.
const maxGroup = 512

var ledgerMigrations = []string{
	`CREATE TABLE signed (
		id         TEXT PRIMARY KEY,
		chain      TEXT NOT NULL,
		tx_data    TEXT NOT NULL,
		tx_id      TEXT NOT NULL,
		signed_at  INTEGER NOT NULL,
		submitted_at INTEGER,
		chain_tx_id TEXT
	) WITHOUT ROWID`,
	// A permanent refusal ends a transaction's attempts; the ledger keeps it
	// so that a restart does not submit the transaction again.
	`ALTER TABLE signed ADD COLUMN failed_at INTEGER`,
	`ALTER TABLE signed ADD COLUMN failure TEXT`,
	// A transaction the approval service refused is never signed: it is kept
	// apart from the signed ones, so that it is never asked about again and
	// its refusal is reported until the API has taken it.
	`CREATE TABLE refused (
		id          TEXT PRIMARY KEY,
		chain       TEXT NOT NULL,
		reason      TEXT NOT NULL,
		refused_at  INTEGER NOT NULL,
		reported_at INTEGER
	) WITHOUT ROWID`,
	// The policy's daily limits: what each signed transaction used of its
	// rule's volume (per asset) and count, kept for the rolling window
	// across restarts (policy.go).
	`CREATE TABLE spent (
		id     TEXT NOT NULL,
		rule   TEXT NOT NULL,
		asset  TEXT NOT NULL,
		amount TEXT NOT NULL,
		at_ms  INTEGER NOT NULL,
		PRIMARY KEY (id, rule, asset)
	) WITHOUT ROWID`,
	`CREATE INDEX spent_at ON spent (at_ms)`,
}

// OpenLedger opens (creating if needed) the ledger at path and takes its lock.
// ErrLedgerLocked when another process holds it.
func OpenLedger(path string) (*Ledger, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	lk := flock.New(path + ".lock")
	ok, err := lk.TryLock()
	if err != nil {
		return nil, fmt.Errorf("ledger lock: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrLedgerLocked, path)
	}
	l, err := openLedgerDB(path)
	if err != nil {
		_ = lk.Unlock()
		return nil, err
	}
	l.lock = lk
	go l.writer()
	return l, nil
}

func openLedgerDB(path string) (*Ledger, error) {
	// Create the file 0600 (or tighten a loose one) before SQLite does, with
	// its default umask-based mode; -wal and -shm take the file's mode.
	if _, err := harden.PrivateFile(path); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	// One connection: the writer goroutine and the readers take turns, and the
	// pragmas above hold for every statement.
	db.SetMaxOpenConns(1)
	if err := migrate(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	l := &Ledger{db: db, reqs: make(chan ledgerReq, maxGroup), done: make(chan struct{})}
	if l.insSigned, err = db.Prepare(`INSERT INTO signed (id, chain, tx_data, tx_id, signed_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`); err != nil {
		db.Close()
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	if l.insSpent, err = db.Prepare(`INSERT INTO spent (id, rule, asset, amount, at_ms) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`); err != nil {
		db.Close()
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	return l, nil
}

func migrate(db *sql.DB) error {
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v > len(ledgerMigrations) {
		return fmt.Errorf("ledger schema version %d is newer than this build (%d)", v, len(ledgerMigrations))
	}
	if v == len(ledgerMigrations) {
		return nil
	}
	// The missing migrations in one transaction: all or none of them, and one
	// sync (synchronous=FULL) instead of one per migration, which a new
	// ledger paid at each daemon's first start.
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for ; v < len(ledgerMigrations); v++ {
		if _, err := tx.Exec(ledgerMigrations[v]); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, v)); err != nil {
		return err
	}
	return tx.Commit()
}

// Close stops the writer, closes the database and releases the lock. Calling
// it again returns the first call's result.
func (l *Ledger) Close() error {
	l.closeOnce.Do(func() {
		close(l.reqs)
		<-l.done
		// Closing the database reports the statements' errors too.
		_ = l.insSigned.Close()
		_ = l.insSpent.Close()
		l.closeErr = l.db.Close()
		if err := l.lock.Unlock(); l.closeErr == nil {
			l.closeErr = err
		}
	})
	return l.closeErr
}

// Lookup returns the entries recorded for ids.
func (l *Ledger) Lookup(ctx context.Context, ids []string) (map[string]Entry, error) {
	out := map[string]Entry{}
	if len(ids) == 0 {
		return out, nil
	}
	arg, _ := json.Marshal(ids)
	rows, err := l.db.QueryContext(ctx,
		`SELECT id, chain, tx_data, tx_id, COALESCE(failure, '') FROM signed WHERE id IN (SELECT value FROM json_each(?))`, string(arg))
	if err != nil {
		return nil, fmt.Errorf("ledger lookup: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, &e.Chain, &e.TxData, &e.TxID, &e.Failure); err != nil {
			return nil, fmt.Errorf("ledger lookup: %w", err)
		}
		out[e.ID] = e
	}
	return out, rows.Err()
}

// Record commits e durably and returns what the ledger holds for e.ID: e
// itself, or the entry recorded earlier, which the caller must submit instead.
func (l *Ledger) Record(ctx context.Context, e Entry) (Entry, error) {
	r := ledgerReq{e: e, reply: make(chan ledgerReply, 1)}
	select {
	case l.reqs <- r:
	case <-ctx.Done():
		return Entry{}, ctx.Err()
	}
	// Once queued the write completes regardless of ctx: waiting for it keeps
	// the caller from submitting something the ledger may not hold.
	rep := <-r.reply
	return rep.stored, rep.err
}

// Spent returns the policy spends recorded since then, oldest first.
func (l *Ledger) Spent(ctx context.Context, since time.Time) ([]policy.Spend, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT id, rule, asset, amount, at_ms FROM spent WHERE at_ms >= ? ORDER BY at_ms`,
		since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("ledger spends: %w", err)
	}
	defer rows.Close()
	var out []policy.Spend
	for rows.Next() {
		var (
			s      policy.Spend
			amount string
			at     int64
		)
		if err := rows.Scan(&s.TxID, &s.Rule, &s.Asset, &amount, &at); err != nil {
			return nil, fmt.Errorf("ledger spends: %w", err)
		}
		var ok bool
		if s.Amount, ok = new(big.Int).SetString(amount, 10); !ok {
			return nil, fmt.Errorf("ledger spends: amount %q of %s", amount, s.TxID)
		}
		s.At = time.UnixMilli(at)
		out = append(out, s)
	}
	return out, rows.Err()
}

// MarkSubmitted notes the API's answers for submitted entries, chain txId by
// pending id, in one commit. It is for diagnostics only (safety rests on
// Record), so a run calls it once at its end rather than paying a sync per
// transaction.
func (l *Ledger) MarkSubmitted(ctx context.Context, chainTxIDs map[string]string) error {
	return l.update(ctx, `UPDATE signed SET submitted_at = ?, chain_tx_id = ? WHERE id = ?`, chainTxIDs)
}

// MarkFailed notes, reason by pending id, the entries whose attempts ended
// with a permanent refusal, in one commit: Lookup returns them with Failure
// set and the daemon does not submit them again. A run calls it once at its
// end; a crash before it costs one more submission, which the API refuses
// again.
func (l *Ledger) MarkFailed(ctx context.Context, reasons map[string]string) error {
	return l.update(ctx, `UPDATE signed SET failed_at = ?, failure = ? WHERE id = ?`, reasons)
}

// Refusal is a transaction refused for good (by the approval service, the
// policy, or as ambiguous JSON), as the ledger holds it.
type Refusal struct {
	Reason string
	// Reported is set once the API accepted the refusal's report.
	Reported bool
}

// Refuse notes, reason by pending id, the transactions of chain refused for
// good, in one commit; a refusal noted before keeps its reason. A
// run calls it once at its end, before it reports them; a crash before it
// costs one more approval request, which the service refuses again.
func (l *Ledger) Refuse(ctx context.Context, chain string, reasons map[string]string) error {
	return l.update(ctx, `INSERT INTO refused (id, chain, reason, refused_at) VALUES (?3, ?4, ?2, ?1)
		ON CONFLICT (id) DO NOTHING`, reasons, chain)
}

// Refusals returns the refusals noted for ids.
func (l *Ledger) Refusals(ctx context.Context, ids []string) (map[string]Refusal, error) {
	out := map[string]Refusal{}
	if len(ids) == 0 {
		return out, nil
	}
	arg, _ := json.Marshal(ids)
	rows, err := l.db.QueryContext(ctx,
		`SELECT id, reason, reported_at IS NOT NULL FROM refused WHERE id IN (SELECT value FROM json_each(?))`, string(arg))
	if err != nil {
		return nil, fmt.Errorf("ledger refusals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			r  Refusal
		)
		if err := rows.Scan(&id, &r.Reason, &r.Reported); err != nil {
			return nil, fmt.Errorf("ledger refusals: %w", err)
		}
		out[id] = r
	}
	return out, rows.Err()
}

// MarkReported notes that the API accepted the reports of these refusals.
func (l *Ledger) MarkReported(ctx context.Context, ids []string) error {
	values := make(map[string]string, len(ids))
	for _, id := range ids {
		values[id] = ""
	}
	// Numbered parameters: update binds (time, value, id) and there is no value here.
	return l.update(ctx, `UPDATE refused SET reported_at = ?1 WHERE id = ?3`, values)
}

// update runs query (time, value, id, extra...) for each id and value in one commit.
func (l *Ledger) update(ctx context.Context, query string, values map[string]string, extra ...any) error {
	if len(values) == 0 {
		return nil
	}
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer st.Close()
	now := time.Now().Unix()
	for id, v := range values {
		if _, err := st.ExecContext(ctx, append([]any{now, v, id}, extra...)...); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// groupWait is how long the ledger's writer holds a group open for more
// entries while signers are recording together (groupcommit): each commit
// costs a transaction and an fsync whatever it carries, and a signer already
// waits about that long for its own commit.
const groupWait = 2 * time.Millisecond

func (l *Ledger) writer() {
	defer close(l.done)
	g := groupcommit.New(l.reqs, maxGroup, groupWait)
	for {
		group, ok := g.Next()
		if !ok {
			return
		}
		l.commit(group)
	}
}

func (l *Ledger) commit(group []ledgerReq) {
	stored, err := l.commitGroup(group)
	for i, r := range group {
		if err != nil {
			r.reply <- ledgerReply{err: err}
		} else {
			r.reply <- ledgerReply{stored: stored[i]}
		}
	}
}

func (l *Ledger) commitGroup(group []ledgerReq) ([]Entry, error) {
	tx, err := l.db.Begin()
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer tx.Rollback()
	ins, spend := tx.Stmt(l.insSigned), tx.Stmt(l.insSpent)
	now := time.Now().Unix()
	stored := make([]Entry, len(group))
	for i, r := range group {
		res, err := ins.Exec(r.e.ID, r.e.Chain, r.e.TxData, r.e.TxID, now)
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		stored[i] = r.e
		for _, sp := range r.e.Spends {
			if _, err := spend.Exec(sp.TxID, sp.Rule, sp.Asset, sp.Amount.String(), sp.At.UnixMilli()); err != nil {
				return nil, fmt.Errorf("ledger: %w", err)
			}
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// Recorded before: the earlier bytes win.
			e := Entry{ID: r.e.ID}
			if err := tx.QueryRow(`SELECT chain, tx_data, tx_id FROM signed WHERE id = ?`, r.e.ID).
				Scan(&e.Chain, &e.TxData, &e.TxID); err != nil {
				return nil, fmt.Errorf("ledger: %w", err)
			}
			stored[i] = e
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("ledger commit: %w", err)
	}
	return stored, nil
}
