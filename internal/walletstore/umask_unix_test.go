//go:build unix

package walletstore

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestModesUnderUmask000 creates a store with the process umask at 000 (no
// test in this package runs in parallel, so changing it process-wide is
// safe): the store, and the rollback journal of an open write transaction,
// are still 0600.
func TestModesUnderUmask000(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wallet.dat")
	s, err := Open(ctx, path, []byte(testPassword), Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT INTO wallets VALUES ('x', x'00')"); err != nil {
		t.Fatal(err)
	}
	wantPrivate(t, path, path+"-journal")
}

// TestLooseStoreTightened: an existing store others can read is made 0600
// when it is opened, with a warning.
func TestLooseStoreTightened(t *testing.T) {
	ctx := context.Background()
	s, path := newStore(t)
	s.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s2, err := Open(ctx, path, []byte(testPassword), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o after open, want 600", fi.Mode().Perm())
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "was=0644") {
		t.Fatalf("no warning: %q", logs.String())
	}
}
