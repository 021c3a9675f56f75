package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/storetest"
)

func open(t *testing.T) pending.Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "pending.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestContract(t *testing.T) { storetest.Run(t, open) }

func TestMigrationsAreIdempotentAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pending.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := s.Create(ctx, "aaaaaaaaaaaaaaaaaaaaaaaa", pending.NewTx{Chain: "ETH", SerializedTransaction: "x", Hashes: []string{"h"}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(migrations) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(migrations))
	}
	if _, err := s.Get(ctx, "aaaaaaaaaaaaaaaaaaaaaaaa", ids[0]); err != nil {
		t.Fatalf("row lost across reopen: %v", err)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pending.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(ctx, path); err == nil {
		s.Close()
		t.Fatal("opened a database from a newer build")
	}
}

// The pending query must start from the ID list and probe the index, never
// scan every stored transaction.
func TestPendingQueryPlanProbesIndex(t *testing.T) {
	s := open(t).(*Store)
	defer s.Close()
	rows, err := s.db.Query(`EXPLAIN QUERY PLAN SELECT `+txColumns+` FROM txs
			WHERE seq IN (SELECT p.seq FROM json_each(?1) j CROSS JOIN pending_keys p ON p.k = j.value)
			  AND tenant = ?2 AND chain = ?3 AND tx_id IS NULL AND deleted_at IS NULL
			ORDER BY seq`, `[1]`, "t", "ETH")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	for _, d := range plan {
		if d == "SCAN txs" || d == "SCAN p" {
			t.Fatalf("plan scans a table: %q", plan)
		}
	}
	t.Logf("plan: %q", plan)
}

// A hash collision in the pending index must not return a transaction whose
// IDs are not in the list.
func TestMatchesFiltersKeyCollisions(t *testing.T) {
	q := pending.PendingQuery{Tenant: "t", Chain: "ETH", SignatureIDs: []string{"wanted"}}
	tx := pending.Tx{Hashes: []string{"other"}}
	// Pretend "other" hashed to the same key as "wanted".
	collided := map[int64]int{sigKey("t", "ETH", "other"): 0}
	if matches(tx, q, collided) {
		t.Fatal("collision was taken for a match")
	}
	real := map[int64]int{sigKey("t", "ETH", "wanted"): 0}
	if !matches(pending.Tx{Signatures: []pending.Signature{{ID: "wanted"}}}, q, real) {
		t.Fatal("a real match was dropped")
	}
	if sigKey("t", "ETH", "a") == sigKey("t", "BTC", "a") || sigKey("t1", "ETH", "a") == sigKey("t", "ETH", "a") {
		t.Fatal("keys do not separate tenants and chains")
	}
}
