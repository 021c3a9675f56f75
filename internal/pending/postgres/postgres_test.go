package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/postgres/pgtest"
	"github.com/custoskms/custos/internal/pending/storetest"
)

func open(t *testing.T) pending.Store {
	t.Helper()
	s, err := Open(context.Background(), pgtest.NewSchema(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestContract(t *testing.T) { storetest.Run(t, open) }

func TestSequences(t *testing.T) {
	storetest.RunSequences(t, func(t *testing.T) (pending.Store, func(*testing.T) pending.Store) {
		url := pgtest.NewSchema(t)
		openURL := func(t *testing.T) pending.Store {
			t.Helper()
			s, err := Open(context.Background(), url)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return s
		}
		return openURL(t), openURL
	})
}

func TestMigrateEmptyDatabaseAndReopen(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewSchema(t)
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(migrations) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(migrations))
	}
	ids, err := s.Create(ctx, "aaaaaaaaaaaaaaaaaaaaaaaa", pending.NewTx{Chain: "ETH", SerializedTransaction: "x", Hashes: []string{"h"}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Several replicas starting at once take turns at the migration lock.
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := Open(ctx, url)
			if err == nil {
				_, err = s.Get(ctx, "aaaaaaaaaaaaaaaaaaaaaaaa", ids[0])
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("reopen: %v", err)
		}
	}
}

// A database left at the previous schema version by an older build is
// migrated on open, keeps its rows, and its transactions can be leased.
func TestMigrateFromPreviousVersion(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewSchema(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	prev := len(migrations) - 1
	if err := migrateTo(ctx, pool, prev); err != nil {
		t.Fatal(err)
	}
	tenant, id, sigID := storetest.Seed.Tenant, storetest.Seed.ID, storetest.Seed.SigID
	if _, err := pool.Exec(ctx, `INSERT INTO txs (id, tenant, chain, serialized, hashes, created_at) VALUES ($1, $2, 'ETH', '0x01', $3, now())`,
		id, tenant, `["`+sigID+`"]`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO pending_keys (k, seq) SELECT $1, seq FROM txs WHERE id = $2`, pending.SigKey(tenant, "ETH", sigID), id); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO api_keys (id, name, secret_hash, testnet, created_at) VALUES ($1, 'old', $2, false, now())`,
		storetest.Seed.KeyID, storetest.Seed.KeyHash[:]); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := pool.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil || v != prev {
		t.Fatalf("built version %d, %v; want %d", v, err, prev)
	}
	pool.Close()

	s, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("open a version-%d database: %v", prev, err)
	}
	defer s.Close()
	storetest.CheckMigrated(t, s, len(migrations))
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewSchema(t)
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES (999)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(ctx, url); err == nil || !strings.Contains(err.Error(), "newer") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("opened a database from a newer build: %v", err)
	}
}

func TestBadURLDoesNotLeakPassword(t *testing.T) {
	_, err := Open(context.Background(), "postgres://user:s3cr3t-pw@127.0.0.1:1/db?sslmode=bogus")
	if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("error %v", err)
	}
}

func TestOutboxAtomicity(t *testing.T) {
	s := open(t).(*Store)
	defer s.Close()
	exec := func(q string) func(*testing.T) {
		return func(t *testing.T) {
			if _, err := s.pool.Exec(context.Background(), q); err != nil {
				t.Fatal(err)
			}
		}
	}
	storetest.RunOutboxAtomicity(t, s,
		exec(`CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox refuses'; END $$;
			CREATE TRIGGER refuse_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_events()`),
		exec(`DROP TRIGGER refuse_events ON events; DROP FUNCTION refuse_events()`))
}
