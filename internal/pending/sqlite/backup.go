package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/custoskms/custos/internal/sqlitefile"
)

// openExisting opens a database file for a backup or a check: never creating
// it, never migrating it, waiting for serve's writers like they wait for each other.
func openExisting(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("pending store: %w", err)
	}
	q := url.Values{}
	q.Set("mode", "rw")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open pending store: %w", err)
	}
	return db, nil
}

// Snapshot copies the pending database at path into dst, a file that is
// absent or empty, with VACUUM INTO: one read transaction, which in WAL mode
// holds up no writer, so serve keeps running. It neither creates nor migrates
// the source (a newer build must not upgrade a database an older serve is
// using), and returns the copy's schema version.
func Snapshot(ctx context.Context, path, dst string) (int, error) {
	db, err := openExisting(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if err := sqlitefile.Copy(ctx, db, dst); err != nil {
		return 0, fmt.Errorf("copy pending store: %w", err)
	}
	return Check(ctx, dst)
}

// Check verifies a pending database file without changing its data: SQLite's
// integrity check and a schema this build knows. It returns the schema version.
func Check(ctx context.Context, path string) (int, error) {
	db, err := openExisting(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	problems, err := sqlitefile.Problems(ctx, db)
	if err != nil {
		return 0, fmt.Errorf("check pending store: %w", err)
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("pending store is damaged: %s", strings.Join(problems, "; "))
	}
	var version, txs int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, fmt.Errorf("check pending store: %w", err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'txs'").Scan(&txs); err != nil {
		return 0, fmt.Errorf("check pending store: %w", err)
	}
	switch {
	case version < 1 || txs != 1:
		return 0, fmt.Errorf("%w: no pending-transaction schema", ErrNotPendingStore)
	case version > len(migrations):
		return 0, fmt.Errorf("%w: schema version %d is newer than this build (%d)", ErrNotPendingStore, version, len(migrations))
	}
	return version, nil
}
