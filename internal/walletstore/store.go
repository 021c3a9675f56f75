// Package walletstore owns the encrypted wallet store shared by the CLI and the
// signer daemon: one SQLite file (pure Go) holding a header row and one sealed
// record per wallet.
//
// Envelope encryption: Argon2id, with its parameters in the header, turns the
// password into a key that wraps a random 32-byte data key
// (XChaCha20-Poly1305); each wallet record is sealed with the data key and its
// signature ID as additional data. Changing the password rewraps the data key
// only; re-keying draws a new data key and reseals every record. SQLite gives crash-atomic transactions (rollback journal, synchronous
// FULL), an indexed table so adding, removing or finding a wallet costs the same
// whatever the store's size, and file locking that works on Linux, macOS and
// Windows, so the CLI can add wallets while a daemon reads them: every read goes
// to the file, nothing is cached but the data key.
package walletstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/custoskms/custos/internal/harden"
	"github.com/custoskms/custos/internal/sqlitedb"
)

// busyTimeoutMS is how long a command waits for another process's write
// transaction before giving up.
const busyTimeoutMS = 30000

// Options controls Open.
type Options struct {
	// Create makes a new store (with the given password) when the file does not
	// exist or is empty. Without it a missing file is ErrNoStore.
	Create bool
	// Logger receives the warnings of opening: a store file readable by
	// others (tightened to 0600), key memory the OS refused to lock. nil
	// discards them.
	Logger *slog.Logger
	// BulkWrites is for a command that adds wallets by the thousand
	// (generatemanagedprivatekeybatch, an import): its connections get a page
	// cache of up to bulkCacheKiB instead of SQLite's 2 MB. A batch of random
	// signature IDs modifies most leaf pages of the index; with the small
	// cache each insert reads its page back from the file and dirty pages
	// spill to the file before the commit. The cache grows only with the
	// pages used, and long-running readers (the daemon) keep the default.
	BulkWrites bool
}

// bulkCacheKiB is the page cache of a BulkWrites store: room for the index
// of a few hundred thousand wallets.
const bulkCacheKiB = 64 << 10

// Store is an open, unlocked wallet store. It is safe for concurrent use.
type Store struct {
	path string
	db   *sql.DB

	log *slog.Logger

	mu      sync.RWMutex
	dataKey []byte
	locked  bool // dataKey's memory is locked against swapping
	// header is the encoded header the data key was unwrapped from: a read
	// that fails authentication under a different header on file means
	// another process re-keyed the store (ErrRekeyed).
	header   []byte
	aead     cipherAEAD
	lockOnce sync.Once
	rnd      io.Reader

	// hot keeps Get's statement, prepared at the first Get (a store being
	// created has no table to prepare it against yet): the daemon reads one
	// record per transaction, and compiling the query each time cost about
	// as much as reading the record.
	hot *sqlitedb.Stmts
}

// Entry is one wallet with its signature ID, for batch inserts and listings.
type Entry struct {
	ID     string
	Wallet *Wallet
}

const schema = `
CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), header BLOB NOT NULL);
CREATE TABLE wallets (id TEXT PRIMARY KEY, record BLOB NOT NULL) WITHOUT ROWID;
PRAGMA application_id = 1129534551;
PRAGMA user_version = 1;
`

// Open opens (and with opts.Create, creates) the store at path and unlocks it
// with password. A wrong password gives ErrInvalidPassword and writes nothing.
// A split-protected store gives ErrSplitProtected: OpenSealed opens it.
func Open(ctx context.Context, path string, password []byte, opts Options) (*Store, error) {
	return open(ctx, path, opts, func(s *Store, empty bool) error {
		return s.unlock(ctx, password, opts.Create, empty)
	})
}

// open opens the file and has unlock install the data key; empty reports a
// file to be initialised.
func open(ctx context.Context, path string, opts Options, unlock func(s *Store, empty bool) error) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("wallet store path: %w", err)
	}
	empty, err := preflight(abs, opts.Create)
	if err != nil {
		return nil, err
	}
	cacheKiB := 0
	if opts.BulkWrites {
		cacheKiB = bulkCacheKiB
	}
	db, err := openDB(abs, cacheKiB)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{path: abs, db: db, hot: sqlitedb.NewStmts(db), rnd: rand.Reader, log: log}
	if err := unlock(s, empty); err != nil {
		db.Close()
		return nil, err
	}
	if old, err := harden.PrivateFile(abs); err != nil {
		log.Warn("wallet store permissions could not be tightened", "path", abs, "err", err)
	} else if old != 0 {
		log.Warn("wallet store was readable by others: its mode is now 0600", "path", abs, "was", fmt.Sprintf("%04o", old))
	}
	return s, nil
}

// preflight looks at the file before SQLite does, to refuse what SQLite would
// misread or create, and to name the problem: a missing file, a Tatum
// wallet.dat, a file that is not SQLite at all. It reports whether the file is
// empty (to be initialised).
func preflight(path string, create bool) (empty bool, err error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		if !create {
			return false, fmt.Errorf("%w at %s", ErrNoStore, path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return false, fmt.Errorf("wallet store directory: %w", err)
		}
		// Created here with 0600 so SQLite (which gives its journal the same
		// mode as the database) never makes a world-readable file.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil && !errors.Is(err, os.ErrExist) {
			return false, fmt.Errorf("create wallet store: %w", err)
		}
		if f != nil {
			f.Close()
		}
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("wallet store: %w", err)
	}
	if fi.IsDir() {
		return false, fmt.Errorf("%w: %s is a directory", ErrCorrupt, path)
	}
	if hotJournal(path) {
		// A crash left a journal: SQLite rolls it back on first access, and
		// until then the main file may be half-written. Let SQLite see it first.
		return false, nil
	}
	if fi.Size() == 0 {
		if !create {
			return false, fmt.Errorf("%w at %s", ErrEmptyStore, path)
		}
		return true, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("wallet store: %w", err)
	}
	defer f.Close()
	head := make([]byte, 100)
	n, _ := io.ReadFull(f, head)
	return false, checkFileHeader(head[:n])
}

func hotJournal(path string) bool {
	fi, err := os.Stat(path + "-journal")
	return err == nil && fi.Size() > 0
}

// checkFileHeader classifies the first bytes of a wallet file. It never panics.
func checkFileHeader(head []byte) error {
	if bytes.HasPrefix(head, []byte("U2FsdGVkX1")) { // base64 of "Salted__"
		return ErrTatumFormat
	}
	if !bytes.HasPrefix(head, []byte("SQLite format 3\x00")) {
		return fmt.Errorf("%w: unknown file format", ErrCorrupt)
	}
	if len(head) < 100 {
		return fmt.Errorf("%w: truncated file header", ErrCorrupt)
	}
	return nil
}

// sqliteURI is the store's connection string; cacheKiB > 0 sets each
// connection's page cache, 0 keeps SQLite's default.
func sqliteURI(path string, cacheKiB int) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows drive paths: file:/C:/…
	}
	u := url.URL{Scheme: "file", Path: p}
	q := url.Values{}
	q.Set("mode", "rw")
	q.Set("_txlock", "immediate")
	q.Set("_busy_timeout", fmt.Sprint(busyTimeoutMS))
	q.Set("_sync", "FULL")
	q.Set("_journal", "DELETE")
	q.Add("_pragma", "secure_delete(1)")
	q.Add("_pragma", "trusted_schema(0)")
	if cacheKiB > 0 {
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cacheKiB))
	}
	return u.String() + "?" + q.Encode()
}

// maxConns bounds the store's SQLite connections.
const maxConns = 4

func openDB(path string, cacheKiB int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", sqliteURI(path, cacheKiB))
	if err != nil {
		return nil, fmt.Errorf("open wallet store: %w", err)
	}
	db.SetMaxOpenConns(maxConns)
	// As many kept as may be open: with fewer, a daemon whose signers read
	// wallets at once closed the extra connections as they were released and
	// opened new ones for the next reads, each paying SQLite's set-up, the
	// pragmas, Get's statement and a cold page cache, about a third of a
	// read's cost. The peak is the same maxConns connections either way.
	db.SetMaxIdleConns(maxConns)
	return db, nil
}

// classify turns SQLite's corruption codes into ErrCorrupt.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_FORMAT:
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	return err
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inspect checks that the open file is a complete Custos store and returns its
// header row; fresh reports a blank database (to be initialised).
func inspect(ctx context.Context, q querier, path string) (h *header, fresh bool, err error) {
	var appID, userVersion, pageCount, pageSize, tables int64
	for _, x := range []struct {
		sql string
		v   *int64
	}{
		{"PRAGMA application_id", &appID},
		{"PRAGMA user_version", &userVersion},
		{"PRAGMA page_count", &pageCount},
		{"PRAGMA page_size", &pageSize},
		{"SELECT count(*) FROM sqlite_schema", &tables},
	} {
		if err := q.QueryRowContext(ctx, x.sql).Scan(x.v); err != nil {
			return nil, false, classify(fmt.Errorf("read wallet store: %w", err))
		}
	}
	if appID == 0 && userVersion == 0 && tables == 0 {
		return nil, true, nil
	}
	if appID != applicationID {
		return nil, false, fmt.Errorf("%w: a SQLite database of another application", ErrCorrupt)
	}
	if userVersion > FormatVersion {
		return nil, false, fmt.Errorf("%w (format %d, this build reads up to %d)", ErrNewerFormat, userVersion, FormatVersion)
	}
	if userVersion < 1 {
		return nil, false, fmt.Errorf("%w: format version %d", ErrCorrupt, userVersion)
	}
	// SQLite only notices a cut-off file when it reads a missing page; the
	// page count in its header says how long the file must be.
	if fi, err := os.Stat(path); err == nil && fi.Size() < pageCount*pageSize {
		return nil, false, fmt.Errorf("%w: truncated (%d of %d bytes)", ErrCorrupt, fi.Size(), pageCount*pageSize)
	}
	var raw []byte
	if err := q.QueryRowContext(ctx, "SELECT header FROM meta WHERE id = 1").Scan(&raw); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, false, fmt.Errorf("%w: no header", ErrCorrupt)
		}
		return nil, false, classify(fmt.Errorf("%w: read header: %w", ErrCorrupt, err))
	}
	h, err = parseHeader(raw)
	return h, false, err
}

func (s *Store) unlock(ctx context.Context, password []byte, create, empty bool) error {
	var (
		pre   *header
		preDK []byte
	)
	defer func() { clear(preDK) }()
	// The KDF is slow: run it before taking the write lock when the file looks new.
	if create && empty {
		var err error
		if pre, preDK, err = s.newKey(password); err != nil {
			return err
		}
	}
	h, fresh, err := s.readHeader(ctx)
	if err != nil {
		return err
	}
	if fresh {
		if !create {
			return fmt.Errorf("%w at %s", ErrEmptyStore, s.path)
		}
		if pre == nil {
			if pre, preDK, err = s.newKey(password); err != nil {
				return err
			}
		}
		won, theirs, err := s.initialise(ctx, pre)
		if err != nil {
			return err
		}
		if won {
			return s.setKey(preDK, pre)
		}
		h = theirs
	}
	dk, err := unwrap(password, h)
	if err != nil {
		return err
	}
	defer clear(dk)
	return s.setKey(dk, h)
}

func (s *Store) readHeader(ctx context.Context) (*header, bool, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, false, classify(fmt.Errorf("read wallet store: %w", err))
	}
	defer tx.Rollback()
	return inspect(ctx, tx, s.path)
}

// initialise writes the schema and header in one transaction unless another
// process got there first, in which case it returns that process's header.
func (s *Store) initialise(ctx context.Context, h *header) (won bool, theirs *header, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, nil, classify(fmt.Errorf("initialise wallet store: %w", err))
	}
	defer tx.Rollback()
	cur, fresh, err := inspect(ctx, tx, s.path)
	if err != nil {
		return false, nil, err
	}
	if !fresh {
		return false, cur, nil
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return false, nil, classify(fmt.Errorf("initialise wallet store: %w", err))
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta (id, header) VALUES (1, ?)", h.encode()); err != nil {
		return false, nil, classify(fmt.Errorf("initialise wallet store: %w", err))
	}
	if err := tx.Commit(); err != nil {
		return false, nil, classify(fmt.Errorf("initialise wallet store: %w", err))
	}
	return true, nil, nil
}

// newKey draws a fresh data key and wraps it under password with the default
// KDF parameters; the caller zeroes the key.
func (s *Store) newKey(password []byte) (*header, []byte, error) {
	dk, err := newDataKey()
	if err != nil {
		return nil, nil, err
	}
	h, err := wrap(password, dk, newStoreKDF(), s.rnd)
	if err != nil {
		clear(dk)
		return nil, nil, err
	}
	return h, dk, nil
}

func (s *Store) setKey(dk []byte, h *header) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setKeyLocked(dk, h)
}

// setKeyLocked installs a copy of dk, in memory locked against swapping where
// the OS allows it, and the header it came from; s.mu is held. The AEAD keeps
// its own copy of the key on the Go heap (the library copies it), which
// cannot be locked: locking covers the copy this package owns.
func (s *Store) setKeyLocked(dk []byte, h *header) error {
	aead, err := chacha20poly1305.NewX(dk)
	if err != nil {
		return err
	}
	s.dataKey = append([]byte(nil), dk...)
	if err := harden.Lock(s.dataKey); err != nil {
		s.lockOnce.Do(func() {
			s.log.Warn("the data key's memory could not be locked: it may be swapped to disk", "err", err)
		})
	} else {
		s.locked = true
	}
	s.aead = aead
	s.header = h.encode()
	return nil
}

// releaseKey zeroes and unlocks the data key; s.mu is held.
func (s *Store) releaseKey() {
	clear(s.dataKey)
	if s.locked {
		_ = harden.Unlock(s.dataKey)
		s.locked = false
	}
	s.dataKey, s.aead, s.header = nil, nil, nil
}

// Path is the absolute path of the store file.
func (s *Store) Path() string { return s.path }

func (s *Store) cipher() (cipherAEAD, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.aead == nil {
		return nil, ErrClosed
	}
	return s.aead, nil
}

// Get returns the wallet stored under id, read from the file (so wallets that
// another process added since Open are seen).
func (s *Store) Get(ctx context.Context, id string) (*Wallet, error) {
	aead, err := s.cipher()
	if err != nil {
		return nil, err
	}
	st, err := s.hot.Get(ctx, "SELECT record FROM wallets WHERE id = ?")
	if err != nil {
		return nil, classify(fmt.Errorf("read wallet: %w", err))
	}
	var rec []byte
	err = st.QueryRowContext(ctx, id).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w for signature ID %q", ErrNotFound, id)
	}
	if err != nil {
		return nil, classify(fmt.Errorf("read wallet: %w", err))
	}
	return s.openRecord(ctx, aead, id, rec)
}

// openRecord is openRecord that tells a store re-keyed by another process
// (ErrRekeyed) from a damaged record.
func (s *Store) openRecord(ctx context.Context, aead cipherAEAD, id string, rec []byte) (*Wallet, error) {
	w, err := openRecord(aead, id, rec)
	if err == nil || !errors.Is(err, ErrCorrupt) {
		return w, err
	}
	if s.checkKey(ctx, s.db, aead) == ErrRekeyed {
		return nil, ErrRekeyed
	}
	return nil, err
}

// checkKey reports ErrRekeyed when the file's data key is no longer the one
// this handle holds. The header on file differing from the one the key was
// unwrapped from means a password change or a re-key; a record that still
// opens with aead tells the first, after which the new header is noted.
// Writes check inside their transaction, so a record sealed with a key that
// a re-key in another process replaced meanwhile is never stored.
func (s *Store) checkKey(ctx context.Context, q querier, aead cipherAEAD) error {
	var raw []byte
	if err := q.QueryRowContext(ctx, "SELECT header FROM meta WHERE id = 1").Scan(&raw); err != nil {
		return classify(fmt.Errorf("read wallet store: %w", err))
	}
	s.mu.RLock()
	same := bytes.Equal(raw, s.header)
	s.mu.RUnlock()
	if same {
		return nil
	}
	var (
		id  string
		rec []byte
	)
	if err := q.QueryRowContext(ctx, "SELECT id, record FROM wallets LIMIT 1").Scan(&id, &rec); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			// Nothing to tell a password change from a re-key: refuse to write.
			return ErrRekeyed
		}
		return classify(fmt.Errorf("read wallet store: %w", err))
	}
	pt, err := openPlain(aead, id, rec)
	if err != nil {
		return ErrRekeyed
	}
	clear(pt)
	s.mu.Lock()
	s.header = raw
	s.mu.Unlock()
	return nil
}

// Put stores a wallet under a new signature ID (ErrExists if it is taken).
func (s *Store) Put(ctx context.Context, id string, w *Wallet) error {
	return s.PutMany(ctx, []Entry{{ID: id, Wallet: w}})
}

// PutMany stores wallets in one transaction: all or none.
func (s *Store) PutMany(ctx context.Context, entries []Entry) error {
	aead, err := s.cipher()
	if err != nil {
		return err
	}
	recs := make([][]byte, len(entries))
	for i, e := range entries {
		if e.ID == "" {
			return fmt.Errorf("%w: empty signature ID", ErrInvalidWallet)
		}
		if err := e.Wallet.validate(); err != nil {
			return err
		}
		if recs[i], err = sealRecord(aead, e.ID, e.Wallet, s.rnd); err != nil {
			return err
		}
	}
	// Rows go in in key order: signature IDs are random, so in the caller's
	// order each insert lands on another page of the index; in key order
	// consecutive inserts share pages, which the page cache then holds.
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(entries[a].ID, entries[b].ID) })
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(fmt.Errorf("write wallet store: %w", err))
	}
	defer tx.Rollback()
	if err := s.checkKey(ctx, tx, aead); err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, "INSERT INTO wallets (id, record) VALUES (?, ?)")
	if err != nil {
		return classify(fmt.Errorf("write wallet store: %w", err))
	}
	defer st.Close()
	for _, i := range order {
		e := entries[i]
		if _, err := st.ExecContext(ctx, e.ID, recs[i]); err != nil {
			var se *sqlite.Error
			if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
				return fmt.Errorf("%w: %q", ErrExists, e.ID)
			}
			return classify(fmt.Errorf("write wallet store: %w", err))
		}
	}
	if err := tx.Commit(); err != nil {
		return classify(fmt.Errorf("write wallet store: %w", err))
	}
	return nil
}

// Delete removes a wallet (ErrNotFound when there is none).
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.cipher(); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, "DELETE FROM wallets WHERE id = ?", id)
	if err != nil {
		return classify(fmt.Errorf("write wallet store: %w", err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w for signature ID %q", ErrNotFound, id)
	}
	return nil
}

// IDs lists the signature IDs in the store, sorted.
func (s *Store) IDs(ctx context.Context) ([]string, error) {
	if _, err := s.cipher(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id FROM wallets ORDER BY id")
	if err != nil {
		return nil, classify(fmt.Errorf("read wallet store: %w", err))
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, classify(err)
		}
		ids = append(ids, id)
	}
	return ids, classify(rows.Err())
}

// All decrypts every wallet, in signature-ID order (export).
func (s *Store) All(ctx context.Context) ([]Entry, error) {
	aead, err := s.cipher()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id, record FROM wallets ORDER BY id")
	if err != nil {
		return nil, classify(fmt.Errorf("read wallet store: %w", err))
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var id string
		var rec []byte
		if err := rows.Scan(&id, &rec); err != nil {
			return nil, classify(err)
		}
		w, err := s.openRecord(ctx, aead, id, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{ID: id, Wallet: w})
	}
	return out, classify(rows.Err())
}

// ChangePassword rewraps the data key under a new password (with the current
// default KDF parameters and a fresh salt). Records are untouched, so a running
// daemon keeps working; but whoever kept a copy of the old header can still
// unwrap the data key with the old password: Rekey replaces the key itself.
func (s *Store) ChangePassword(ctx context.Context, newPassword []byte) error {
	return s.rewrap(ctx, func(dk []byte) (*header, error) {
		return wrap(newPassword, dk, newStoreKDF(), s.rnd)
	})
}

// rewrap replaces the header by the one wrapDK builds around (a copy of) the
// same data key: the records are untouched.
func (s *Store) rewrap(ctx context.Context, wrapDK func(dk []byte) (*header, error)) error {
	s.mu.RLock()
	dk := append([]byte(nil), s.dataKey...)
	s.mu.RUnlock()
	defer clear(dk)
	if len(dk) == 0 {
		return ErrClosed
	}
	h, err := wrapDK(dk)
	if err != nil {
		return err
	}
	if err := s.writeHeader(ctx, h, nil); err != nil {
		return err
	}
	s.mu.Lock()
	s.header = h.encode()
	s.mu.Unlock()
	return nil
}

// writeHeader replaces the header in one write transaction, after first
// running also (when set) in the same transaction.
func (s *Store) writeHeader(ctx context.Context, h *header, also func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(fmt.Errorf("write wallet store: %w", err))
	}
	defer tx.Rollback()
	if also != nil {
		if err := also(tx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE meta SET header = ? WHERE id = 1", h.encode()); err != nil {
		return classify(fmt.Errorf("write wallet store: %w", err))
	}
	return classify(tx.Commit())
}

// Rekey replaces the data key: a fresh one wrapped under newPassword, and
// every record opened with the old key and sealed again with the new one, all
// in one SQLite transaction (rollback journal, synchronous FULL). A crash at
// any instant leaves either the old store, which the old password opens, or
// the new one, which only the new password opens: an old copy of the header
// unwraps the old data key, which no longer opens any record.
//
// While it runs, other processes wait on the write lock; a process that had
// the store open before sees ErrRekeyed on its next read and must be
// restarted with the new password.
func (s *Store) Rekey(ctx context.Context, newPassword []byte) error {
	oldAEAD, err := s.cipher()
	if err != nil {
		return err
	}
	// The KDF is slow: wrap the new key before taking the write lock.
	h, dk, err := s.newKey(newPassword)
	if err != nil {
		return err
	}
	defer clear(dk)
	newAEAD, err := chacha20poly1305.NewX(dk)
	if err != nil {
		return err
	}
	err = s.writeHeader(ctx, h, func(tx *sql.Tx) error {
		return resealAll(ctx, tx, oldAEAD, newAEAD, s.rnd)
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseKey()
	return s.setKeyLocked(dk, h)
}

// resealAll seals every record of the transaction again, from oldAEAD to newAEAD.
func resealAll(ctx context.Context, tx *sql.Tx, oldAEAD, newAEAD cipherAEAD, rnd io.Reader) error {
	recs, err := readRecords(ctx, tx)
	if err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, "UPDATE wallets SET record = ? WHERE id = ?")
	if err != nil {
		return classify(fmt.Errorf("write wallet store: %w", err))
	}
	defer st.Close()
	for _, r := range recs {
		sealed, err := resealRecord(oldAEAD, newAEAD, r.id, r.record, rnd)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, sealed, r.id); err != nil {
			return classify(fmt.Errorf("write wallet store: %w", err))
		}
	}
	return nil
}

type sealedRecord struct {
	id     string
	record []byte
}

// readRecords loads every sealed record of the transaction's snapshot, so
// the updates that follow do not run under an open cursor on the same table.
func readRecords(ctx context.Context, tx *sql.Tx) ([]sealedRecord, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id, record FROM wallets")
	if err != nil {
		return nil, classify(fmt.Errorf("read wallet store: %w", err))
	}
	defer rows.Close()
	var out []sealedRecord
	for rows.Next() {
		var r sealedRecord
		if err := rows.Scan(&r.id, &r.record); err != nil {
			return nil, classify(err)
		}
		out = append(out, r)
	}
	return out, classify(rows.Err())
}

// Close zeroes the data key and closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	s.releaseKey()
	s.mu.Unlock()
	s.hot.Close() // closing the database below reports its errors
	return s.db.Close()
}

// Info describes a store without unlocking it (checkconfig, report).
type Info struct {
	FormatVersion int       `json:"formatVersion"`
	KDF           KDFParams `json:"kdf"`
	// Split is set for a split-protected store (KDF is then zero).
	Split   *SplitInfo `json:"split,omitempty"`
	Wallets int        `json:"wallets"`
}

// Inspect reads a store's header and wallet count without the password.
func Inspect(ctx context.Context, path string) (*Info, error) {
	var info *Info
	err := readOnly(ctx, path, func(tx *sql.Tx, h *header) error {
		info = &Info{FormatVersion: int(h.Version), KDF: h.KDF, Split: h.splitInfo()}
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM wallets").Scan(&n); err != nil {
			return classify(err)
		}
		info.Wallets = int(n)
		return nil
	})
	return info, err
}

// readFileHeader reads the header of the store at path, without any secret.
func readFileHeader(ctx context.Context, path string) (*header, error) {
	var out *header
	err := readOnly(ctx, path, func(_ *sql.Tx, h *header) error { out = h; return nil })
	return out, err
}

// readOnly runs fn in a read transaction on the store at path, with its header.
func readOnly(ctx context.Context, path string, fn func(*sql.Tx, *header) error) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := preflight(abs, false); err != nil {
		return err
	}
	db, err := openDB(abs, 0)
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	h, fresh, err := inspect(ctx, tx, abs)
	if err != nil {
		return err
	}
	if fresh {
		return fmt.Errorf("%w at %s", ErrEmptyStore, abs)
	}
	return fn(tx, h)
}

// NewID returns a fresh signature ID: a random (version 4) UUID, as Tatum KMS uses.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // crypto/rand does not fail on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Ref is what a wallet's record says of it besides its keys: the chain and
// network it signs for.
type Ref struct {
	Chain   string
	Testnet bool
}

// EachRef reads every wallet's chain and network in one read of the file,
// in signature-ID order, and hands each to fn, as a signer learns which of
// its wallets sign for which chain. Each record is still opened
// (authenticated and checked as Get checks it), but its keys are not decoded
// into strings that outlive the read (openRef). Records are opened a block
// at a time (eachBlock) on every core: the daemon reads every wallet at
// start, 10,000 records while the rest of the system waits for it. It stops
// at fn's first error.
func (s *Store) EachRef(ctx context.Context, fn func(id string, r Ref) error) error {
	aead, err := s.cipher()
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id, record FROM wallets ORDER BY id")
	if err != nil {
		return classify(fmt.Errorf("read wallet store: %w", err))
	}
	defer rows.Close()
	type opened struct {
		id  string
		rec []byte
		v   Ref
		err error
	}
	block := make([]opened, 0, eachBlock)
	flush := func() error {
		parts := min(runtime.GOMAXPROCS(0), max(1, len(block)/64))
		var wg sync.WaitGroup
		for p := range parts {
			wg.Go(func() {
				for i := p; i < len(block); i += parts {
					block[i].v, block[i].err = openRef(aead, block[i].id, block[i].rec)
				}
			})
		}
		wg.Wait()
		for i := range block {
			if block[i].err != nil {
				return block[i].err
			}
			if err := fn(block[i].id, block[i].v); err != nil {
				return err
			}
			block[i] = opened{}
		}
		block = block[:0]
		return nil
	}
	for rows.Next() {
		var o opened
		if err := rows.Scan(&o.id, &o.rec); err != nil {
			return classify(err)
		}
		if block = append(block, o); len(block) == eachBlock {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return classify(err)
	}
	return flush()
}

// eachBlock is how many records EachRef opens together.
const eachBlock = 256

// Fetched holds wallet records as one read of the file found them, still
// sealed: Get opens one at a time, so no more decrypted wallets are held than
// with Store.Get.
type Fetched struct {
	s    *Store
	recs map[string][]byte
}

// Fetch reads the records of ids in one read transaction. A caller that
// opens many wallets within a short time (the daemon's run over its pending
// transactions) pays one query instead of one per wallet: each query is a
// read transaction of its own, with SQLite's locking and change check, and
// costs ten times a record's decryption. What Fetched holds is the file as
// of this call: a wallet removed later is still in it.
func (s *Store) Fetch(ctx context.Context, ids []string) (*Fetched, error) {
	if _, err := s.cipher(); err != nil {
		return nil, err
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id, record FROM wallets WHERE id IN (SELECT value FROM json_each(?))", string(arg))
	if err != nil {
		return nil, classify(fmt.Errorf("read wallet store: %w", err))
	}
	defer rows.Close()
	f := &Fetched{s: s, recs: make(map[string][]byte, len(ids))}
	for rows.Next() {
		var id string
		var rec []byte
		if err := rows.Scan(&id, &rec); err != nil {
			return nil, classify(err)
		}
		f.recs[id] = rec
	}
	return f, classify(rows.Err())
}

// Get opens the fetched wallet id: ErrNotFound when it was not in the file
// (or not asked for), ErrClosed once the store is closed.
func (f *Fetched) Get(ctx context.Context, id string) (*Wallet, error) {
	aead, err := f.s.cipher()
	if err != nil {
		return nil, err
	}
	rec, ok := f.recs[id]
	if !ok {
		return nil, fmt.Errorf("%w for signature ID %q", ErrNotFound, id)
	}
	return f.s.openRecord(ctx, aead, id, rec)
}
