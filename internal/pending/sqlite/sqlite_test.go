package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
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

// openPath opens the store at path, closed when the test ends.
func openPath(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) { storetest.Run(t, open) }

func TestSequences(t *testing.T) {
	storetest.RunSequences(t, func(t *testing.T) (pending.Store, func(*testing.T) pending.Store) {
		path := filepath.Join(t.TempDir(), "pending.db")
		openPath := func(t *testing.T) pending.Store {
			t.Helper()
			s, err := Open(context.Background(), path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return s
		}
		return openPath(t), openPath
	})
}

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
// scan every stored transaction, and read matched rows by rowid; so must the
// read of the rows a scan of the pending index found.
func TestPendingQueryPlanProbesIndex(t *testing.T) {
	s := open(t).(*Store)
	defer s.Close()
	for _, query := range []string{pendingByKeysSQL, pendingBySeqsSQL} {
		rows, err := s.db.Query(`EXPLAIN QUERY PLAN `+query, jsonbIntArray([]int64{1}), "t", "ETH")
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !slices.Contains(plan, "SEARCH txs USING INTEGER PRIMARY KEY (rowid=?)") {
			t.Fatalf("rows not read by rowid: %q", plan)
		}
		for _, d := range plan {
			if d == "SCAN txs" || d == "SCAN p" || strings.Contains(d, "TEMP B-TREE") {
				t.Fatalf("plan scans a table or sorts: %q", plan)
			}
		}
	}
}

func TestOutboxAtomicity(t *testing.T) {
	s := open(t).(*Store)
	defer s.Close()
	exec := func(q string) func(*testing.T) {
		return func(t *testing.T) {
			if _, err := s.db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}
	storetest.RunOutboxAtomicity(t, s,
		exec(`CREATE TRIGGER refuse_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'outbox refuses'); END`),
		exec(`DROP TRIGGER refuse_events`))
}

// The contract holds with every signature query matched through the index
// in memory, built by the first one and kept by the writes after it.
func TestContractIndexed(t *testing.T) {
	storetest.Run(t, func(t *testing.T) pending.Store {
		s := open(t).(*Store)
		s.indexFrom = 1
		return s
	})
}
