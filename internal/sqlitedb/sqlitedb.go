// Package sqlitedb opens the SQLite files of the embedded stores (the pending
// store, the approver's) the one way they need: the pure Go driver, WAL,
// foreign keys, writers that wait for each other, and a schema migrated in
// code on open.
package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/custoskms/custos/internal/harden"
)

// BusyTimeout is how long a write waits for another writer before failing.
const BusyTimeout = 10 * time.Second

// Open opens (creating when needed) the database file at path and applies
// the migrations it has not had yet (PRAGMA user_version counts those done).
// what names the store in errors.
func Open(ctx context.Context, path, what string, migrations []string) (*sql.DB, error) {
	// The file is created 0600 before SQLite opens it, and an existing one
	// that others can read is tightened to 0600: SQLite creates a database
	// with 0644 less the umask, and its -wal and -shm files take the
	// database's mode, so this one step keeps all three private.
	if _, err := harden.PrivateFile(path); err != nil {
		return nil, fmt.Errorf("open %s: %w", what, err)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// Write transactions take the write lock when they begin, so two writers
	// wait on busy_timeout instead of failing to upgrade a read lock.
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", what, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := migrate(ctx, db, what, migrations); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func migrate(ctx context.Context, db *sql.DB, what string, migrations []string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", what, err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("migrate %s: %w", what, err)
	}
	if version > len(migrations) {
		return fmt.Errorf("%s schema version %d is newer than this build (%d)", what, version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate %s to version %d: %w", what, i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("migrate %s: %w", what, err)
	}
	return tx.Commit()
}
