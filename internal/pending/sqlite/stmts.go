package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmts keeps the statements of the per-request paths (API-key look-up, get,
// store signed data, complete) compiled. SQLite compiles a statement's text
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
