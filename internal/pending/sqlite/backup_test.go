package sqlite

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/custoskms/custos/internal/pending"
)

func TestSnapshotAndCheck(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "custos.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids, err := s.Create(ctx, "", pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{"sig"}})
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	v, err := Snapshot(ctx, path, dst)
	if err != nil || v != len(migrations) {
		t.Fatalf("snapshot: version %d, %v", v, err)
	}
	c, err := Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Get(ctx, "", ids[0]); err != nil {
		t.Fatalf("copy: %v", err)
	}

	// A missing source is not created, another SQLite file is not a pending
	// store, and a newer schema is refused.
	missing := filepath.Join(t.TempDir(), "none.db")
	if _, err := Snapshot(ctx, missing, filepath.Join(t.TempDir(), "x.db")); err == nil {
		t.Fatal("snapshot of a missing file succeeded")
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("snapshot created %s", missing)
	}
	other := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (x); PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := Check(ctx, other); !errors.Is(err, ErrNotPendingStore) {
		t.Fatalf("check of another database: %v", err)
	}
	if _, err := c.db.ExecContext(ctx, "PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	if _, err := Check(ctx, dst); !errors.Is(err, ErrNotPendingStore) {
		t.Fatalf("check of a newer schema: %v", err)
	}
}
