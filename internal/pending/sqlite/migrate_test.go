package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
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
	const tenant, id, sigID = "aaaaaaaaaaaaaaaaaaaaaaaa", "0123456789abcdef01234567", "00000000-0000-4000-8000-000000000001"
	if _, err := db.ExecContext(ctx, `INSERT INTO txs (id, tenant, chain, serialized, hashes, created_at) VALUES (?, ?, 'ETH', '0x01', ?, 1)`,
		id, tenant, `["`+sigID+`"]`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO pending_keys (k, seq) SELECT ?, seq FROM txs WHERE id = ?`, pending.SigKey(tenant, "ETH", sigID), id); err != nil {
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
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(migrations) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(migrations))
	}
	q := pending.PendingQuery{Tenant: tenant, Chain: "ETH", SignatureIDs: []string{sigID}, Claim: &pending.Claim{Signer: "s1", Lease: time.Minute}}
	got, err := s.Pending(ctx, q)
	if err != nil || len(got) != 1 || got[0].ID != id {
		t.Fatalf("claim after migration = %+v, %v", got, err)
	}
	q.Claim.Signer = "s2"
	if got, err := s.Pending(ctx, q); err != nil || len(got) != 0 {
		t.Fatalf("second signer's claim = %+v, %v; want none", got, err)
	}
}
