// Package harden holds the process and memory hygiene of a program that
// keeps private keys: no core dumps, no debugger attach by the same user,
// key bytes locked against swapping, files only their owner reads. Every
// call is best effort where the operating system lacks the feature, and
// compiles on every platform Custos is built for.
package harden

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// ErrUnsupported is returned where the platform has no such control.
var ErrUnsupported = errors.New("not supported on this platform")

// PrivateFile makes sure path exists with mode 0600, whatever the umask: it
// creates a missing file (empty) and tightens an existing one that group or
// others may use, reporting the mode it had (0 when it was already private
// or was just created), so the caller can warn. SQLite gives the journal,
// -wal and -shm files of a database the database file's mode, so preparing
// the main file this way before SQLite opens it covers those too.
//
// On Windows file modes do not carry access control (the directory's ACL
// does): the file is only created.
func PrivateFile(path string) (loose fs.FileMode, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if runtime.GOOS == "windows" {
		return 0, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return 0, fmt.Errorf("chmod 0600 %s: %w", path, err)
		}
		return perm, nil
	}
	return 0, nil
}

// CheckSecretFile refuses a file holding a secret (a password file) that
// group or others can read or write, as ssh refuses such a private key: the
// secret may already be known to them, and it is the owner's to fix.
func CheckSecretFile(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; run chmod 600 %s", ErrLooseFile, path, perm, path)
	}
	return nil
}

// ErrLooseFile is returned for a secret file that group or others can use.
var ErrLooseFile = errors.New("secret file is accessible by group or others")
