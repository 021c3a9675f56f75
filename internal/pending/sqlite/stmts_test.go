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
	a, err := s.hot.Get(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.hot.Get(t.Context(), q)
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
	if err := a.QueryRowContext(t.Context(), "t").Scan(&n); err == nil {
		t.Fatal("a kept statement still runs after Close")
	}
}

// TestKeptStatementsInATransaction: a kept statement run in a transaction
// is the transaction's (rolled back with it), and one that does not compile
// reports its error where the caller reads the result.
func TestKeptStatementsInATransaction(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const ins = `INSERT INTO sequences (seq_key, next) VALUES (?, ?)`
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.hot.Exec(ctx, tx, ins, "k", 5); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.hot.QueryRow(ctx, tx, `SELECT count(*) FROM sequences`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("inside the transaction: %d rows, %v", n, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := s.hot.QueryRow(ctx, nil, `SELECT count(*) FROM sequences`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("after the rollback: %d rows, %v", n, err)
	}
	if err := s.hot.QueryRow(ctx, nil, `SELECT nothing FROM nowhere`).Scan(&n); err == nil {
		t.Fatal("a statement that does not compile scanned without an error")
	}
}
