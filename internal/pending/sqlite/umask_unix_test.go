//go:build unix

package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/custoskms/custos/internal/pending"
)

// TestModesUnderUmask000 opens a database with the process umask at 000 (no
// top-level test here runs in parallel, so changing it process-wide is safe)
// and writes to it: the database and its -wal and -shm files are 0600. An
// existing database others can read is tightened when opened.
func TestModesUnderUmask000(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pending.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Create(ctx, "t", pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Signatures: []pending.Signature{{ID: "sig"}}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %o under umask 000, want 600", filepath.Base(p), fi.Mode().Perm())
		}
	}

	loose := filepath.Join(t.TempDir(), "loose.db")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, loose)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if fi, _ := os.Stat(loose); fi.Mode().Perm() != 0o600 {
		t.Errorf("existing database mode %o after open, want 600", fi.Mode().Perm())
	}
}
