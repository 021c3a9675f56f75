package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/storetest"
)

// A database left at the previous schema version by an older build is
// migrated on open, keeps its rows, and its transactions can be leased.
func TestMigrateFromPreviousVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pending.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	prev := len(migrations) - 1
	for _, m := range migrations[:prev] {
		if _, err := db.ExecContext(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	tenant, id, sigID := storetest.Seed.Tenant, storetest.Seed.ID, storetest.Seed.SigID
	if _, err := db.ExecContext(ctx, `INSERT INTO txs (id, tenant, chain, serialized, hashes, created_at) VALUES (?, ?, 'ETH', '0x01', ?, 1)`,
		id, tenant, `["`+sigID+`"]`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO pending_keys (k, seq) SELECT ?, seq FROM txs WHERE id = ?`, pending.SigKey(tenant, "ETH", sigID), id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO api_keys (id, name, secret_hash, testnet, created_at) VALUES (?, 'old', ?, 0, 1)`,
		storetest.Seed.KeyID, storetest.Seed.KeyHash[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", prev)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open a version-%d database: %v", prev, err)
	}
	defer s.Close()
	storetest.CheckMigrated(t, s, len(migrations))
}
