package sqlite

import (
	"path/filepath"
	"testing"
)

// TestHotStatementsAreKept: the per-request statements are compiled once and
// closed with the store.
func TestHotStatementsAreKept(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	const q = `SELECT count(*) FROM txs WHERE tenant = ?`
	a, err := s.hot.get(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.hot.get(t.Context(), q)
	if err != nil || a != b {
		t.Fatalf("second get: %p %v, want the kept %p", b, err, a)
	}
	var n int
	if err := b.QueryRowContext(t.Context(), "t").Scan(&n); err != nil || n != 0 {
		t.Fatalf("kept statement: %d %v", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(s.hot.m) != 0 {
		t.Fatalf("%d statements left open after Close", len(s.hot.m))
	}
	if err := a.QueryRowContext(t.Context(), "t").Scan(&n); err == nil {
		t.Fatal("a kept statement still runs after Close")
	}
}
