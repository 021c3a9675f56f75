package harden

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestPrivateFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh")
	if loose, err := PrivateFile(fresh); err != nil || loose != 0 {
		t.Fatalf("new file: %o %v", loose, err)
	}
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o600 {
		t.Fatalf("new file mode %o", fi.Mode().Perm())
	}
	old := filepath.Join(dir, "old")
	if err := os.WriteFile(old, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(old, 0o644); err != nil {
		t.Fatal(err)
	}
	if loose, err := PrivateFile(old); err != nil || loose != 0o644 {
		t.Fatalf("loose file: %o %v", loose, err)
	}
	if fi, _ := os.Stat(old); fi.Mode().Perm() != 0o600 || fi.Size() != 4 {
		t.Fatalf("tightened file: mode %o size %d", fi.Mode().Perm(), fi.Size())
	}
}

func TestCheckSecretFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte("pw"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckSecretFile(p); err != nil {
		t.Fatalf("0600: %v", err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := CheckSecretFile(p); !errors.Is(err, ErrLooseFile) {
			t.Fatalf("%o: %v", mode, err)
		}
	}
}

func TestLock(t *testing.T) {
	b := make([]byte, 32)
	err := Lock(b)
	if runtime.GOOS == "windows" {
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("windows: %v", err)
		}
		return
	}
	if err != nil {
		// RLIMIT_MEMLOCK may be 0 in a container: that is the refusal the
		// callers log, not a failure of Lock.
		t.Skipf("mlock refused here: %v", err)
	}
	if err := Unlock(b); err != nil {
		t.Fatal(err)
	}
}
