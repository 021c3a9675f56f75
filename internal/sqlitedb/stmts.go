package sqlitedb

import (
	"context"
	"database/sql"
	"sync"
)

// Stmts keeps the statements of a store's per-request paths compiled (the
// pending store's per-request and per-check statements; the approver's
// recording of the daemon's requests). SQLite compiles a statement's text
// anew on every query, which in a run of the process benchmark
// (bench/process) was a sixth of the server's CPU; a kept statement is
// compiled once per connection (database/sql prepares it on each connection
// that runs it, and inside a transaction reuses the connection's).
type Stmts struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// NewStmts keeps statements of db.
func NewStmts(db *sql.DB) *Stmts { return &Stmts{db: db, m: map[string]*sql.Stmt{}} }

// Get returns the kept statement of query, preparing it on first use.
func (c *Stmts) Get(ctx context.Context, query string) (*sql.Stmt, error) {
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

// Close closes the kept statements, before the database closes.
func (c *Stmts) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// Stmt is query's kept statement, bound to tx when tx is not nil (database/sql
// reuses the statement the connection of tx already compiled).
func (c *Stmts) Stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, err := c.Get(ctx, query)
	if err != nil || tx == nil {
		return st, err
	}
	return tx.StmtContext(ctx, st), nil
}

// Exec runs query's kept statement, in tx when tx is not nil.
func (c *Stmts) Exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := c.Stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// Query runs query's kept statement, in tx when tx is not nil.
func (c *Stmts) Query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	st, err := c.Stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRow runs query's kept statement, in tx when tx is not nil. A
// statement that does not compile runs uncompiled instead, so that its
// error comes out of the row's Scan like any other.
func (c *Stmts) QueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	st, err := c.Stmt(ctx, tx, query)
	switch {
	case err == nil:
		return st.QueryRowContext(ctx, args...)
	case tx != nil:
		return tx.QueryRowContext(ctx, query, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}
