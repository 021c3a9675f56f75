package backup

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeCopy stands in for a store's snapshot: it writes content into dst.
func fakeCopy(content string) Snapshotter {
	return func(_ context.Context, dst string) (Manifest, error) {
		n := 2
		return Manifest{Store: StoreWallet, Format: 1, Wallets: &n}, os.WriteFile(dst, []byte(content), 0o600)
	}
}

func TestTakeExtractRoundTrip(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "b.backup")
	// An older file at out, looser than a backup may be, is replaced whole.
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	const content = "SQLite format 3\x00 and pages"
	m, err := Take(t.Context(), out, fakeCopy(content))
	if err != nil {
		t.Fatal(err)
	}
	if m.Store != StoreWallet || m.Format != 1 || *m.Wallets != 2 || m.Size != int64(len(content)) || m.Created.IsZero() {
		t.Fatalf("manifest %+v", m)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file mode: %v %v", fi.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".custos-backup-*")); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	got, err := ReadManifest(out)
	if err != nil || got.SHA256 != m.SHA256 || !got.Created.Equal(m.Created) {
		t.Fatalf("manifest read back: %+v, %v", got, err)
	}
	dst := filepath.Join(dir, "copy.db")
	if _, err := Extract(out, dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != content {
		t.Fatalf("extracted %q", b)
	}
}

func TestTakeLeavesOutAloneWhenTheCopyFails(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "b.backup")
	if err := os.WriteFile(out, []byte("yesterday's backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("store busy")
	_, err := Take(t.Context(), out, func(context.Context, string) (Manifest, error) { return Manifest{}, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("take: %v", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "yesterday's backup" {
		t.Fatalf("out is now %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".custos-backup-*")); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// Files that are not backups, or damaged ones, are refused with the error
// that says which.
func TestReadRefusesJunk(t *testing.T) {
	good := filepath.Join(t.TempDir(), "good")
	if _, err := Take(t.Context(), good, fakeCopy("0123456789")); err != nil {
		t.Fatal(err)
	}
	valid, _ := os.ReadFile(good)
	cut := bytes.IndexByte(valid, '\n') + 1
	manifest := string(valid[cut : bytes.IndexByte(valid[cut:], '\n')+cut])
	for name, c := range map[string]struct {
		content string
		want    error
	}{
		"empty":          {"", ErrNotBackup},
		"zeros":          {strings.Repeat("\x00", 64), ErrNotBackup},
		"sqlite file":    {"SQLite format 3\x00", ErrNotBackup},
		"bad version":    {"custos-backup x\n{}\n", ErrNotBackup},
		"newer":          {"custos-backup 2\n{}\n", ErrNewerFormat},
		"no manifest":    {"custos-backup 1\n", ErrDamaged},
		"manifest junk":  {"custos-backup 1\n{\"store\":\n", ErrDamaged},
		"unknown store":  {"custos-backup 1\n" + strings.Replace(manifest, `"wallet"`, `"other"`, 1) + "\n0123456789", ErrDamaged},
		"no checksum":    {"custos-backup 1\n{\"store\":\"wallet\",\"format\":1,\"size\":10}\n0123456789", ErrDamaged},
		"truncated copy": {string(valid[:len(valid)-1]), ErrDamaged},
		"longer copy":    {string(valid) + "x", ErrDamaged},
		"flipped byte":   {string(valid[:len(valid)-3]) + "X89", ErrDamaged},
	} {
		p := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Extract(p, filepath.Join(t.TempDir(), "copy")); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

func TestRestoreRefusesAJournalAndAnExistingTarget(t *testing.T) {
	b := filepath.Join(t.TempDir(), "b")
	if _, err := Take(t.Context(), b, fakeCopy("0123456789")); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "sub", "custos.db")
	if _, err := Restore(b, target, false); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("restored file: %v %v", fi, err)
	}
	if _, err := Restore(b, target, false); !errors.Is(err, ErrTargetExists) {
		t.Fatalf("restore over a store: %v", err)
	}
	if err := os.WriteFile(target+"-wal", []byte("frames"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(b, target, true); !errors.Is(err, ErrTargetInUse) {
		t.Fatalf("restore beside a WAL: %v", err)
	}
	os.Remove(target + "-wal")
	if _, err := Restore(b, target, true); err != nil {
		t.Fatalf("forced restore: %v", err)
	}
}
