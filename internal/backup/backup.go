// Package backup writes and reads Custos backup files: a consistent copy of one
// SQLite database (the encrypted wallet store or the SQLite pending store)
// behind a two-line text header saying what it holds, so that an operator
// reading the file with `head -2`, and `custos backup verify`, know which store
// and format version it is before opening it.
//
// Layout:
//
//	custos-backup 1\n
//	{"store":"wallet","format":1,"created":"…","wallets":3,"size":12288,"sha256":"…"}\n
//	<size bytes: the SQLite database>
//
// The copy is the store's own file, so the wallet records in it stay sealed
// under the store's data key: a backup of the wallet store is as safe to hold
// as the store itself, and needs its password to be checked or used.
package backup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Version is the layout of backup files this build writes and reads.
const Version = 1

const magic = "custos-backup "

// maxManifest bounds the manifest line, so that a file that is not a backup is
// refused without reading it whole.
const maxManifest = 4096

// What a backup holds: Manifest.Store.
const (
	// StoreWallet is the encrypted wallet store (Manifest.Format is its
	// walletstore.FormatVersion).
	StoreWallet = "wallet"
	// StorePendingSQLite is the SQLite pending store of serve (Manifest.Format
	// is its schema version).
	StorePendingSQLite = "pending-sqlite"
)

// Manifest is the header line of a backup.
type Manifest struct {
	Store   string    `json:"store"`
	Format  int       `json:"format"`
	Created time.Time `json:"created"`
	// Wallets is how many wallets a wallet-store backup holds.
	Wallets *int   `json:"wallets,omitempty"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
}

// Snapshotter writes a consistent copy of a store into dst (an existing empty
// file) and says what it copied: Store, Format and, for the wallet store, Wallets.
type Snapshotter func(ctx context.Context, dst string) (Manifest, error)

// Take writes a backup to out: snapshot copies the store into a private
// directory beside out, and the backup replaces out only once complete and
// synced, so an interrupted backup never leaves a partial file at out. The
// file is 0600 whatever the umask: it holds everything the store holds.
func Take(ctx context.Context, out string, snapshot Snapshotter) (*Manifest, error) {
	dir, err := os.MkdirTemp(filepath.Dir(out), ".custos-backup-")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(dir)
	img := filepath.Join(dir, "copy.db")
	// Created empty with 0600 first: SQLite keeps the mode of a file it opens.
	if err := createEmpty(img); err != nil {
		return nil, err
	}
	// The copy is the store as of the moment it began, which is what
	// created says (to the second).
	created := time.Now().UTC().Truncate(time.Second)
	m, err := snapshot(ctx, img)
	if err != nil {
		return nil, err
	}
	m.Created = created
	if m.Size, m.SHA256, err = digest(img); err != nil {
		return nil, err
	}
	tmp := filepath.Join(dir, "backup")
	if err := writeBackup(tmp, &m, img); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	syncDir(filepath.Dir(out))
	return &m, nil
}

func createEmpty(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return f.Close()
}

func digest(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("backup: %w", err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

func writeBackup(path string, m *Manifest, img string) error {
	line, err := json.Marshal(m)
	if err != nil {
		return err
	}
	src, err := os.Open(img)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer src.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	head := fmt.Sprintf("%s%d\n%s\n", magic, Version, line)
	if _, err := io.WriteString(f, head); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	if _, err := io.Copy(f, src); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write backup: %w", err)
	}
	return f.Close()
}

// syncDir makes a rename in dir durable where the system allows: directories
// cannot be synced on Windows, where the rename is durable once it returns.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// reader is an open backup positioned at its copy.
type reader struct {
	f *os.File
	r *bufio.Reader
	m Manifest
}

func open(path string) (*reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	r := bufio.NewReaderSize(f, maxManifest+64)
	m, err := readHeader(r)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &reader{f: f, r: r, m: m}, nil
}

// readHeader parses the two header lines. It never panics on any input.
func readHeader(r *bufio.Reader) (Manifest, error) {
	var m Manifest
	first, err := r.Peek(len(magic))
	if err != nil || string(first) != magic {
		return m, ErrNotBackup
	}
	line, err := r.ReadSlice('\n')
	if err != nil {
		return m, ErrNotBackup
	}
	v, err := strconv.Atoi(string(bytes.TrimSuffix(line[len(magic):], []byte("\n"))))
	if err != nil || v < 1 {
		return m, ErrNotBackup
	}
	if v > Version {
		return m, fmt.Errorf("%w (backup format %d, this build reads up to %d)", ErrNewerFormat, v, Version)
	}
	line, err = r.ReadSlice('\n')
	if err != nil {
		return m, fmt.Errorf("%w: manifest line unreadable", ErrDamaged)
	}
	if err := json.Unmarshal(line, &m); err != nil {
		return m, fmt.Errorf("%w: manifest: %v", ErrDamaged, err)
	}
	switch {
	case m.Store != StoreWallet && m.Store != StorePendingSQLite:
		return m, fmt.Errorf("%w: manifest names store %q", ErrDamaged, m.Store)
	case m.Size <= 0 || len(m.SHA256) != sha256.Size*2:
		return m, fmt.Errorf("%w: manifest has no size or checksum", ErrDamaged)
	}
	return m, nil
}

// ReadManifest reads what a backup says it holds, without checking the copy.
func ReadManifest(path string) (*Manifest, error) {
	r, err := open(path)
	if err != nil {
		return nil, err
	}
	defer r.f.Close()
	return &r.m, nil
}

// Extract writes the copy in a backup to dst (a new 0600 file) and checks it
// against the manifest. A copy that fails the checksum is still written, with
// ErrDamaged returned: the store's own check can then say which records the
// damage hit.
func Extract(path, dst string) (*Manifest, error) {
	r, err := open(path)
	if err != nil {
		return nil, err
	}
	defer r.f.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r.r, r.m.Size+1))
	if err != nil {
		return nil, fmt.Errorf("read backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return &r.m, check(&r.m, n, h)
}

func check(m *Manifest, n int64, h hash.Hash) error {
	switch {
	case n < m.Size:
		return fmt.Errorf("%w: truncated (%d of %d bytes)", ErrDamaged, n, m.Size)
	case n > m.Size:
		return fmt.Errorf("%w: longer than its manifest says", ErrDamaged)
	case hex.EncodeToString(h.Sum(nil)) != m.SHA256:
		return fmt.Errorf("%w: checksum mismatch", ErrDamaged)
	}
	return nil
}

// Restore puts the copy in a backup at target, in one rename once it is
// complete, checked and synced. It refuses a damaged backup, a target with a
// journal beside it (SQLite would apply that journal, written for the old
// file, to the restored one), and an existing non-empty target unless force.
// The caller checks that the backup holds the kind of store target is.
func Restore(path, target string, force bool) (*Manifest, error) {
	for _, j := range []string{target + "-journal", target + "-wal"} {
		if fi, err := os.Stat(j); err == nil && fi.Size() > 0 {
			return nil, fmt.Errorf("%w: %s", ErrTargetInUse, j)
		}
	}
	if fi, err := os.Stat(target); err == nil && fi.Size() > 0 && !force {
		return nil, fmt.Errorf("%w: %s", ErrTargetExists, target)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	dir, err := os.MkdirTemp(filepath.Dir(target), ".custos-restore-")
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "copy.db")
	m, err := Extract(path, tmp)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, target); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	syncDir(filepath.Dir(target))
	return m, nil
}
