// Package sqlitefile holds what the wallet store and the SQLite pending store
// both do to their database file as a whole: copy it consistently while it is
// in use, and check its structure.
package sqlitefile

import (
	"context"
	"database/sql"
	"fmt"
)

// MaxProblems bounds how many lines of SQLite's integrity report Problems keeps:
// one damaged page can produce thousands.
const MaxProblems = 5

// Copy writes a consistent copy of db's main database into dst, a file that
// is absent or empty. VACUUM INTO runs as one read transaction: the copy holds
// every transaction committed before it began and none that was in flight,
// and it needs no write lock, so the database stays in use meanwhile.
func Copy(ctx context.Context, db *sql.DB, dst string) error {
	_, err := db.ExecContext(ctx, "VACUUM INTO ?", dst)
	return err
}

// Problems runs SQLite's integrity check (every page, every index) and
// returns the first MaxProblems lines it reports; none means the file is sound.
func Problems(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return nil, fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, fmt.Errorf("integrity check: %w", err)
		}
		if line != "ok" && len(problems) < MaxProblems {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("integrity check: %w", err)
	}
	return problems, nil
}
