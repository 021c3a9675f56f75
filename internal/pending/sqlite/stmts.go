package sqlite

import (
	"context"
	"database/sql"

	"github.com/custoskms/custos/internal/sqlitedb"
)

// stmts keeps the statements of the per-request and per-check paths (API-key
// look-up and credits, create and its sequence, get, store signed data,
// complete and its index and outbox writes, the tracker's outcome, the last
// signer error) compiled: sqlitedb.Stmts, which the approver's store shares.
type stmts struct{ *sqlitedb.Stmts }

func newStmts(db *sql.DB) *stmts { return &stmts{sqlitedb.NewStmts(db)} }

func (c *stmts) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	return c.Stmt(ctx, tx, query)
}

func (c *stmts) get(ctx context.Context, query string) (*sql.Stmt, error) { return c.Get(ctx, query) }

func (c *stmts) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	return c.Exec(ctx, tx, query, args...)
}

func (c *stmts) query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	return c.Query(ctx, tx, query, args...)
}

func (c *stmts) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	return c.QueryRow(ctx, tx, query, args...)
}

func (c *stmts) close() { c.Close() }
