package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmts keeps the statements of the per-request and per-check paths (API-key
// look-up and credits, create and its sequence, get, store signed data,
// complete and its index and outbox writes, the tracker's outcome, the last
// signer error) compiled. SQLite compiles a statement's text
// anew on every query, which in a run of the process benchmark (bench/process)
// was a sixth of the server's CPU; a kept statement is compiled once per
// connection (database/sql prepares it on each connection that runs it, and
// inside a transaction reuses the connection's).
type stmts struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmts(db *sql.DB) *stmts { return &stmts{db: db, m: map[string]*sql.Stmt{}} }

// get returns the kept statement of query, preparing it on first use.
func (c *stmts) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.m[query] = st
	return st, nil
}

// close closes the kept statements, before the database closes.
func (c *stmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// stmt is query's kept statement, bound to tx when tx is not nil (database/sql
// reuses the statement the connection of tx already compiled).
func (c *stmts) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, err := c.get(ctx, query)
	if err != nil || tx == nil {
		return st, err
	}
	return tx.StmtContext(ctx, st), nil
}

// exec runs query's kept statement, in tx when tx is not nil.
func (c *stmts) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// query runs query's kept statement, in tx when tx is not nil.
func (c *stmts) query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow runs query's kept statement, in tx when tx is not nil. A
// statement that does not compile runs uncompiled instead, so that its
// error comes out of the row's Scan like any other.
func (c *stmts) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, tx, query)
	switch {
	case err == nil:
		return st.QueryRowContext(ctx, args...)
	case tx != nil:
		return tx.QueryRowContext(ctx, query, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}
