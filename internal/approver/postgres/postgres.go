// Package postgres is the approver's store on PostgreSQL through pgx v5,
// for an approver that runs as several replicas or next to a PostgreSQL
// pending store. Its tables are its own (prefixed approver_), so that it
// may share a database with the pending store.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/approver"
)

var _ approver.Store = (*Store)(nil)

// Store is an approver.Store on PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

// migrationLock serializes replicas migrating at once (another key than
// the pending store's).
const migrationLock = 0x6170707276

var migrations = []string{`
CREATE TABLE approver_operators (
	name TEXT PRIMARY KEY,
	display_name TEXT NOT NULL,
	handle BYTEA NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
);
CREATE TABLE approver_operator_api_keys (
	operator TEXT NOT NULL REFERENCES approver_operators(name) ON DELETE CASCADE,
	api_key_id TEXT NOT NULL,
	PRIMARY KEY (operator, api_key_id)
);
CREATE TABLE approver_credentials (
	seq BIGINT GENERATED ALWAYS AS IDENTITY,
	id BYTEA PRIMARY KEY,
	operator TEXT NOT NULL REFERENCES approver_operators(name) ON DELETE CASCADE,
	data BYTEA NOT NULL
);
CREATE INDEX approver_credentials_operator ON approver_credentials(operator);
CREATE TABLE approver_enrolments (
	operator TEXT PRIMARY KEY REFERENCES approver_operators(name) ON DELETE CASCADE,
	token_hash BYTEA NOT NULL UNIQUE,
	expires_at BIGINT NOT NULL
);
CREATE TABLE approver_requests (
	seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id TEXT NOT NULL,
	digest TEXT NOT NULL,
	chain TEXT NOT NULL,
	body JSONB NOT NULL,
	need JSONB NOT NULL,
	status TEXT NOT NULL,
	first_seen BIGINT NOT NULL,
	last_asked BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	UNIQUE (id, digest)
);
CREATE INDEX approver_requests_queue ON approver_requests(status, updated_at DESC);
CREATE INDEX approver_requests_updated ON approver_requests(updated_at DESC);
CREATE TABLE approver_decisions (
	id TEXT NOT NULL,
	digest TEXT NOT NULL,
	operator TEXT NOT NULL,
	decision TEXT NOT NULL,
	reason TEXT NOT NULL,
	at BIGINT NOT NULL,
	PRIMARY KEY (id, digest, operator)
);
CREATE TABLE approver_sessions (
	hash BYTEA PRIMARY KEY,
	operator TEXT NOT NULL REFERENCES approver_operators(name) ON DELETE CASCADE,
	csrf TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	last_seen BIGINT NOT NULL
);
CREATE TABLE approver_history (
	seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind TEXT NOT NULL,
	at BIGINT NOT NULL,
	operator TEXT NOT NULL,
	id TEXT NOT NULL,
	chain TEXT NOT NULL,
	decision TEXT NOT NULL,
	outcome TEXT NOT NULL,
	reason TEXT NOT NULL,
	remote TEXT NOT NULL
);
`}

// Open connects to the database at url (postgres://…) and migrates it. The
// password in url is never part of an error.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the URL; say only what kind of problem it is.
		return nil, errors.New("open approver store: the PostgreSQL URL could not be parsed")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open approver store: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// migrate applies the migrations not applied yet in one transaction, under
// an advisory lock so that replicas starting together take turns.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return fmt.Errorf("migrate approver store: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS approver_schema_migrations (
			version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("migrate approver store: %w", err)
		}
		var version int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM approver_schema_migrations`).Scan(&version); err != nil {
			return fmt.Errorf("migrate approver store: %w", err)
		}
		if version > len(migrations) {
			return fmt.Errorf("approver store schema version %d is newer than this build (%d)", version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migrate approver store to version %d: %w", i+1, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO approver_schema_migrations (version) VALUES ($1)`, i+1); err != nil {
				return fmt.Errorf("migrate approver store to version %d: %w", i+1, err)
			}
		}
		return nil
	})
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

func code(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

func ns(t time.Time) int64 { return t.UnixNano() }
func at(n int64) time.Time { return time.Unix(0, n).UTC() }
func nf(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return approver.ErrOperatorNotFound
	}
	return err
}

// AddOperator implements approver.Store.
func (s *Store) AddOperator(ctx context.Context, op approver.Operator) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO approver_operators (name, display_name, handle, created_at) VALUES ($1, $2, $3, $4)`,
			op.Name, op.DisplayName, op.Handle, ns(op.CreatedAt))
		if code(err) == uniqueViolation {
			return approver.ErrOperatorExists
		}
		if err != nil {
			return err
		}
		for _, k := range op.APIKeys {
			if _, err := tx.Exec(ctx, `INSERT INTO approver_operator_api_keys (operator, api_key_id) VALUES ($1, $2)
				ON CONFLICT DO NOTHING`, op.Name, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveOperator implements approver.Store.
func (s *Store) RemoveOperator(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM approver_operators WHERE name = $1`, name)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return approver.ErrOperatorNotFound
	}
	return nil
}

const operatorCols = `o.name, o.display_name, o.handle, o.created_at,
	(SELECT count(*) FROM approver_credentials c WHERE c.operator = o.name),
	coalesce((SELECT array_agg(api_key_id ORDER BY api_key_id) FROM approver_operator_api_keys k WHERE k.operator = o.name), '{}')`

func scanOperator(row pgx.Row) (approver.Operator, error) {
	var op approver.Operator
	var created int64
	var n int64
	err := row.Scan(&op.Name, &op.DisplayName, &op.Handle, &created, &n, &op.APIKeys)
	op.CreatedAt, op.Passkeys = at(created), int(n)
	if len(op.APIKeys) == 0 {
		op.APIKeys = nil
	}
	return op, err
}

// Operators implements approver.Store.
func (s *Store) Operators(ctx context.Context) ([]approver.Operator, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+operatorCols+` FROM approver_operators o ORDER BY o.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return approver.ReadAll(rows, func() (approver.Operator, error) { return scanOperator(rows) })
}

// Operator implements approver.Store.
func (s *Store) Operator(ctx context.Context, name string) (approver.Operator, error) {
	op, err := scanOperator(s.pool.QueryRow(ctx, `SELECT `+operatorCols+` FROM approver_operators o WHERE o.name = $1`, name))
	return op, nf(err)
}

// OperatorByHandle implements approver.Store.
func (s *Store) OperatorByHandle(ctx context.Context, handle []byte) (approver.Operator, error) {
	op, err := scanOperator(s.pool.QueryRow(ctx, `SELECT `+operatorCols+` FROM approver_operators o WHERE o.handle = $1`, handle))
	return op, nf(err)
}

// SetEnrolment implements approver.Store.
func (s *Store) SetEnrolment(ctx context.Context, operator string, tokenHash []byte, expires time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO approver_enrolments (operator, token_hash, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (operator) DO UPDATE SET token_hash = excluded.token_hash, expires_at = excluded.expires_at`,
		operator, tokenHash, ns(expires))
	if code(err) == foreignKeyViolation {
		return approver.ErrOperatorNotFound
	}
	return err
}

// Enrolment implements approver.Store.
func (s *Store) Enrolment(ctx context.Context, tokenHash []byte, now time.Time) (string, error) {
	var op string
	err := s.pool.QueryRow(ctx, `SELECT operator FROM approver_enrolments WHERE token_hash = $1 AND expires_at > $2`, tokenHash, ns(now)).Scan(&op)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", approver.ErrNoEnrolment
	}
	return op, err
}

// AddCredential implements approver.Store.
func (s *Store) AddCredential(ctx context.Context, operator string, id, data []byte) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM approver_enrolments WHERE operator = $1`, operator)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return approver.ErrNoEnrolment
		}
		_, err = tx.Exec(ctx, `INSERT INTO approver_credentials (id, operator, data) VALUES ($1, $2, $3)`, id, operator, data)
		return err
	})
}

// UpdateCredential implements approver.Store.
func (s *Store) UpdateCredential(ctx context.Context, id, data []byte) error {
	_, err := s.pool.Exec(ctx, `UPDATE approver_credentials SET data = $1 WHERE id = $2`, data, id)
	return err
}

// Credentials implements approver.Store.
func (s *Store) Credentials(ctx context.Context, operator string) ([][]byte, error) {
	rows, err := s.pool.Query(ctx, `SELECT data FROM approver_credentials WHERE operator = $1 ORDER BY seq`, operator)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[[]byte])
}

// Record implements approver.Store. A request settled on arrival is
// audited and stored with its history entry in one transaction;
// concurrent Records share PostgreSQL's own commit grouping.
func (s *Store) Record(ctx context.Context, req approval.Request, need approver.Need, settle *approver.Settlement, now time.Time) (approver.Tx, error) {
	txs, err := s.RecordAll(ctx, []approver.Recording{{Req: req, Need: need, Settle: settle, Now: now}},
		func(ctx context.Context, _ []int) error { return settle.Audit(ctx) })
	if err != nil {
		return approver.Tx{}, err
	}
	return txs[0], nil
}

// RecordAll implements approver.Store.
func (s *Store) RecordAll(ctx context.Context, rs []approver.Recording, audit func(context.Context, []int) error) ([]approver.Tx, error) {
	existed := make([]bool, len(rs))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var settled []int
		for i, r := range rs {
			body, nb, err := approver.EncodeRequest(r.Req, r.Need)
			if err != nil {
				return err
			}
			// The need is fixed when the request is first seen.
			tag, err := tx.Exec(ctx, `INSERT INTO approver_requests (id, digest, chain, body, need, status, first_seen, last_asked, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7) ON CONFLICT (id, digest) DO NOTHING`,
				r.Req.ID, r.Req.Digest, r.Req.Chain, string(body), string(nb), string(r.Settle.Status()), ns(r.Now))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				existed[i] = true
				if _, err := tx.Exec(ctx, `UPDATE approver_requests SET last_asked = $1 WHERE id = $2 AND digest = $3`, ns(r.Now), r.Req.ID, r.Req.Digest); err != nil {
					return err
				}
			} else if r.Settle != nil {
				settled = append(settled, i)
			}
		}
		if len(settled) == 0 {
			return nil
		}
		// Audited before the outcomes commit (approver.Settlement).
		if err := audit(ctx, settled); err != nil {
			return err
		}
		for _, i := range settled {
			r := rs[i]
			if err := addHistory(ctx, tx, approver.RuleEntry(r.Req.ID, r.Req.Chain, r.Need.Rule, r.Settle.Outcome, r.Now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]approver.Tx, len(rs))
	for i, r := range rs {
		if !existed[i] {
			out[i] = approver.Recorded(r.Req, r.Need, r.Settle, r.Now)
		} else if out[i], err = s.one(ctx, `WHERE id = $1 AND digest = $2`, r.Req.ID, r.Req.Digest); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Tx implements approver.Store.
func (s *Store) Tx(ctx context.Context, id string) (approver.Tx, error) {
	return s.one(ctx, `WHERE id = $1 ORDER BY seq DESC LIMIT 1`, id)
}

func (s *Store) one(ctx context.Context, where string, args ...any) (approver.Tx, error) {
	return approver.First(s.list(ctx, where, args...))
}

// Queue implements approver.Store.
func (s *Store) Queue(ctx context.Context, f approver.Filter) ([]approver.Tx, error) {
	where, args := f.Where(true, placeholder)
	args = append(args, f.QueueLimit())
	return s.list(ctx, where+" ORDER BY updated_at DESC, seq DESC LIMIT "+placeholder(len(args)), args...)
}

// Count implements approver.Store.
func (s *Store) Count(ctx context.Context, f approver.Filter) (int, error) {
	where, args := f.Where(false, placeholder)
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM approver_requests `+where, args...).Scan(&n)
	return n, err
}

func placeholder(n int) string { return fmt.Sprintf("$%d", n) }

// list reads requests and, in one more query, their decisions.
func (s *Store) list(ctx context.Context, where string, args ...any) ([]approver.Tx, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, id, digest, body, need, status, first_seen, last_asked, updated_at FROM approver_requests `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out, err := approver.ReadTxs(rows)
	if err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]string, len(out))
	for i, t := range out {
		ids[i] = t.Request.ID
	}
	rows.Close()
	drows, err := s.pool.Query(ctx, `SELECT id, digest, operator, decision, reason, at FROM approver_decisions
		WHERE id = ANY($1) ORDER BY at, operator`, ids)
	if err != nil {
		return nil, err
	}
	defer drows.Close()
	return out, approver.AddDecisions(out, drows)
}

func addHistory(ctx context.Context, tx pgx.Tx, e approver.HistoryEntry) error {
	_, err := tx.Exec(ctx, `INSERT INTO approver_history (kind, at, operator, id, chain, decision, outcome, reason, remote)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, e.Kind, ns(e.At), e.Operator, e.ID, e.Chain, string(e.Decision),
		string(e.Outcome), e.Reason, e.Remote)
	return err
}

// Decide implements approver.Store. The request's row lock (FOR UPDATE)
// makes decisions on one request serial: the second waits for the first to
// commit, and then reads its decision with the others.
func (s *Store) Decide(ctx context.Context, d approver.Decision, commit func(approver.Status) error) (approver.Status, error) {
	var outcome approver.Status
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var status, chain string
		var nb []byte
		err := tx.QueryRow(ctx, `SELECT status, chain, need FROM approver_requests WHERE id = $1 AND digest = $2 FOR UPDATE`,
			d.ID, d.Digest).Scan(&status, &chain, &nb)
		if errors.Is(err, pgx.ErrNoRows) {
			return approver.ErrRequestNotFound
		}
		if err != nil {
			return err
		}
		if approver.Status(status) != approver.StatusPending {
			return approver.ErrClosed
		}
		_, err = tx.Exec(ctx, `INSERT INTO approver_decisions (id, digest, operator, decision, reason, at) VALUES ($1, $2, $3, $4, $5, $6)`,
			d.ID, d.Digest, d.Operator, string(d.Decision), d.Reason, ns(d.At))
		if code(err) == uniqueViolation {
			return approver.ErrAlreadyDecided
		}
		if err != nil {
			return err
		}
		ds, err := decisions(ctx, tx, d.ID, d.Digest)
		if err != nil {
			return err
		}
		if outcome, err = approver.Settle(d.ID, nb, ds); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE approver_requests SET status = $1, updated_at = $2 WHERE id = $3 AND digest = $4`,
			string(outcome), ns(d.At), d.ID, d.Digest); err != nil {
			return err
		}
		if err := addHistory(ctx, tx, approver.HistoryEntry{Kind: approver.HistoryDecision, At: d.At, Operator: d.Operator,
			ID: d.ID, Chain: chain, Decision: d.Decision, Outcome: outcome, Reason: d.Reason}); err != nil {
			return err
		}
		if commit != nil {
			return commit(outcome)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return outcome, nil
}

// decisions reads the decisions stored on (id, digest) in tx.
func decisions(ctx context.Context, tx pgx.Tx, id, digest string) ([]approver.Decision, error) {
	rows, err := tx.Query(ctx, `SELECT operator, decision, reason, at FROM approver_decisions WHERE id = $1 AND digest = $2 ORDER BY at, operator`, id, digest)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return approver.ReadDecisions(rows, id, digest)
}

// SetStatus implements approver.Store; a settled outcome is a rule's
// decision in the history.
func (s *Store) SetStatus(ctx context.Context, id, digest string, st approver.Status, now time.Time) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var chain string
		var nb []byte
		err := tx.QueryRow(ctx, `UPDATE approver_requests SET status = $1, updated_at = $2 WHERE id = $3 AND digest = $4 AND status = $5
			RETURNING chain, need`, string(st), ns(now), id, digest, string(approver.StatusPending)).Scan(&chain, &nb)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		e, err := approver.RuleDecision(id, chain, nb, st, now)
		if err != nil {
			return err
		}
		return addHistory(ctx, tx, e)
	})
}

// History implements approver.Store.
func (s *Store) History(ctx context.Context, p approver.HistoryPage) ([]approver.HistoryEntry, error) {
	before, limit := p.Bounds()
	rows, err := s.pool.Query(ctx, `SELECT seq, kind, at, operator, id, chain, decision, outcome, reason, remote
		FROM approver_history WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return approver.ReadHistory(rows)
}

// CreateSession implements approver.Store.
func (s *Store) CreateSession(ctx context.Context, ss approver.Session) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO approver_sessions (hash, operator, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $5)`,
			ss.Hash, ss.Operator, ss.CSRF, ns(ss.CreatedAt), ns(ss.LastSeen)); err != nil {
			return err
		}
		return addHistory(ctx, tx, approver.HistoryEntry{Kind: approver.HistorySignin, At: ss.CreatedAt, Operator: ss.Operator, Remote: ss.Remote})
	})
}

// Session implements approver.Store.
func (s *Store) Session(ctx context.Context, hash []byte) (approver.Session, error) {
	ss := approver.Session{Hash: hash}
	var created, seen int64
	err := s.pool.QueryRow(ctx, `SELECT operator, csrf, created_at, last_seen FROM approver_sessions WHERE hash = $1`, hash).
		Scan(&ss.Operator, &ss.CSRF, &created, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return approver.Session{}, approver.ErrNoSession
	}
	ss.CreatedAt, ss.LastSeen = at(created), at(seen)
	return ss, err
}

// TouchSession implements approver.Store.
func (s *Store) TouchSession(ctx context.Context, hash []byte, t time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE approver_sessions SET last_seen = $1 WHERE hash = $2`, ns(t), hash)
	return err
}

// DeleteSession implements approver.Store.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM approver_sessions WHERE hash = $1`, hash)
	return err
}
