package walletstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/custoskms/custos/internal/sqlitefile"
)

// Snapshot copies the store at path into dst, a file that is absent or empty,
// without the password: the copy holds the same header and sealed records, so
// nothing is decrypted. It is one SQLite read transaction (VACUUM INTO), so the
// copy holds every wallet committed before it began and no half-written one,
// while the CLI and the daemon keep using the store: their writes wait for the
// copy within their busy timeout. It returns what the copy holds.
func Snapshot(ctx context.Context, path, dst string) (*Info, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("wallet store path: %w", err)
	}
	// Refuse what is not a Custos store (a Tatum wallet.dat, an empty file)
	// before copying anything.
	if _, err := Inspect(ctx, abs); err != nil {
		return nil, err
	}
	db, err := openDB(abs, 0)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := sqlitefile.Copy(ctx, db, dst); err != nil {
		return nil, classify(fmt.Errorf("copy wallet store: %w", err))
	}
	return Inspect(ctx, dst)
}

// Verify decrypts every record and checks the file's structure. Unlike Each it
// does not stop at the first damaged record: checking a backup is done to learn
// what it can restore, so the error names every record that fails (each
// wrapping ErrCorrupt). It returns how many records it read.
func (s *Store) Verify(ctx context.Context) (int, error) {
	aead, err := s.cipher()
	if err != nil {
		return 0, err
	}
	var errs []error
	n, err := s.eachRecord(ctx, func(id string, rec []byte) {
		if _, err := openRecord(aead, id, rec); err != nil {
			errs = append(errs, err)
		}
	})
	if err != nil {
		errs = append(errs, err)
	}
	if err := s.integrity(ctx); err != nil {
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

// eachRecord hands fn every sealed record in signature-ID order.
func (s *Store) eachRecord(ctx context.Context, fn func(id string, rec []byte)) (int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, record FROM wallets ORDER BY id")
	if err != nil {
		return 0, classify(fmt.Errorf("read wallet store: %w", err))
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		var rec []byte
		if err := rows.Scan(&id, &rec); err != nil {
			return n, classify(err)
		}
		n++
		fn(id, rec)
	}
	return n, classify(rows.Err())
}

// integrity runs SQLite's own check of pages and indexes, which sees damage
// outside the records (a B-tree page, the free list) that decrypting cannot.
func (s *Store) integrity(ctx context.Context) error {
	problems, err := sqlitefile.Problems(ctx, s.db)
	if err != nil {
		return classify(err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}
