package sqlitedb

import (
	"path/filepath"
	"testing"
)

// TestStmtsAreKeptAndClosed: a statement is compiled once and closed with
// the others.
func TestStmtsAreKeptAndClosed(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "s.db"), "test store", []string{`CREATE TABLE t (k TEXT)`})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := NewStmts(db)
	const q = `SELECT count(*) FROM t WHERE k = ?`
	a, err := c.Get(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Get(t.Context(), q)
	if err != nil || a != b {
		t.Fatalf("second get: %p %v, want the kept %p", b, err, a)
	}
	var n int
	if err := b.QueryRowContext(t.Context(), "x").Scan(&n); err != nil || n != 0 {
		t.Fatalf("kept statement: %d %v", n, err)
	}
	c.Close()
	if len(c.m) != 0 {
		t.Fatalf("%d statements left after Close", len(c.m))
	}
	if err := a.QueryRowContext(t.Context(), "x").Scan(&n); err == nil {
		t.Fatal("a kept statement still runs after Close")
	}
}
