package walletstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

const (
	testPassword = "correct horse battery staple"
	testMnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	testKey      = "0xe01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc"
)

// cheapKDF keeps tests fast; the default parameters are checked in TestDefaultKDF.
var cheapKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

func TestMain(m *testing.M) {
	TestKDF = &cheapKDF
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	if os.Getenv(rekeyChildEnv) != "" {
		rekeyChild()
		return
	}
	os.Exit(m.Run())
}

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "wallet.dat")
	s, err := Open(context.Background(), path, []byte(testPassword), Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, path := newStore(t)
	mw := &Wallet{Mnemonic: testMnemonic, XPub: "xpub…", Chain: "ETH", Testnet: true}
	kw := &Wallet{PrivateKey: testKey, Chain: "ETH"}
	if err := s.Put(ctx, "a", mw); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "b", kw); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "a", kw); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate id: %v", err)
	}
	if err := s.Put(ctx, "c", &Wallet{Chain: "ETH"}); !errors.Is(err, ErrInvalidWallet) {
		t.Fatalf("wallet without secret: %v", err)
	}
	got, err := s.Get(ctx, "a")
	if err != nil || *got != *mw {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := s.Get(ctx, "zzz"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	all, err := s.All(ctx)
	if err != nil || len(all) != 2 || all[1].ID != "b" || *all[1].Wallet != *kw {
		t.Fatalf("All = %+v, %v", all, err)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	s.Close()
	if _, err := s.Get(ctx, "b"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}

	s2, err := Open(ctx, path, []byte(testPassword), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ids, err := s2.IDs(ctx)
	if err != nil || len(ids) != 1 || ids[0] != "b" {
		t.Fatalf("IDs after reopen = %v, %v", ids, err)
	}
	// Nothing in the file is readable without the key.
	raw, _ := os.ReadFile(path)
	for _, secret := range []string{testMnemonic[:20], testKey[2:20], "ETH", "privateKey"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("file contains %q in clear", secret)
		}
	}
}

func TestWrongPasswordLeavesFileIdentical(t *testing.T) {
	ctx := context.Background()
	s, path := newStore(t)
	if err := s.Put(ctx, "a", &Wallet{PrivateKey: testKey, Chain: "ETH"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before, _ := os.ReadFile(path)
	for _, create := range []bool{false, true} {
		_, err := Open(ctx, path, []byte("wrong password"), Options{Create: create})
		if !errors.Is(err, ErrInvalidPassword) {
			t.Fatalf("wrong password (create=%v): %v", create, err)
		}
		if strings.Contains(err.Error(), "wrong password") {
			t.Fatal("error echoes the password")
		}
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("file changed after a wrong password")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("side files left behind: %v", entries)
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	ctx := context.Background()
	s, path := newStore(t)
	// Hold a write transaction open so the rollback journal exists, and check
	// it is as private as the store.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO wallets VALUES ('x', x'00')"); err != nil {
		t.Fatal(err)
	}
	wantPrivate(t, path, path+"-journal")
	tx.Rollback()
	if fi, _ := os.Stat(filepath.Dir(path)); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %o, want 700", fi.Mode().Perm())
	}
}

// wantPrivate fails the test for each path whose mode is not 0600.
func wantPrivate(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %o, want 600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

func TestSecondHandleSeesNewWallets(t *testing.T) {
	ctx := context.Background()
	daemon, path := newStore(t)
	cli, err := Open(ctx, path, []byte(testPassword), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if err := cli.Put(ctx, "new", &Wallet{PrivateKey: testKey, Chain: "ETH"}); err != nil {
		t.Fatal(err)
	}
	if w, err := daemon.Get(ctx, "new"); err != nil || w.PrivateKey != testKey {
		t.Fatalf("daemon handle: %+v %v", w, err)
	}
	// A password change by the CLI does not disturb the open handle either.
	if err := cli.ChangePassword(ctx, []byte("new password")); err != nil {
		t.Fatal(err)
	}
	if _, err := daemon.Get(ctx, "new"); err != nil {
		t.Fatal(err)
	}
}

// TestGetReadsTheFileEachTime: Get's kept statement is compiled once but
// still reads the file on every call, so a wallet another process removes
// after the first Get is gone for the daemon's handle at once.
func TestGetReadsTheFileEachTime(t *testing.T) {
	ctx := context.Background()
	daemon, path := newStore(t)
	if err := daemon.Put(ctx, "old", &Wallet{PrivateKey: testKey, Chain: "ETH"}); err != nil {
		t.Fatal(err)
	}
	if _, err := daemon.Get(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	cli, err := Open(ctx, path, []byte(testPassword), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if err := cli.Delete(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	if err := cli.Put(ctx, "new", &Wallet{PrivateKey: testKey, Chain: "BSC"}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second round runs on the statement as kept
		if _, err := daemon.Get(ctx, "old"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("removed wallet: %v, want ErrNotFound", err)
		}
		if w, err := daemon.Get(ctx, "new"); err != nil || w.Chain != "BSC" {
			t.Fatalf("added wallet: %+v %v", w, err)
		}
	}
	daemon.Close()
	if _, err := daemon.Get(ctx, "new"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}

// TestConcurrentGetsKeepTheirConnections: signers reading wallets at once
// reuse the store's connections instead of closing and reopening them.
func TestConcurrentGetsKeepTheirConnections(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if err := s.Put(ctx, "a", &Wallet{PrivateKey: testKey, Chain: "ETH"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 50 {
				if _, err := s.Get(ctx, "a"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if st := s.db.Stats(); st.MaxIdleClosed > 0 || st.OpenConnections > maxConns {
		t.Fatalf("connections closed for want of idle room: %d (open %d, max %d)", st.MaxIdleClosed, st.OpenConnections, maxConns)
	}
}

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	s, path := newStore(t)
	if err := s.Put(ctx, "a", &Wallet{Mnemonic: testMnemonic, Chain: "BTC"}); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangePassword(ctx, nil); !errors.Is(err, ErrEmptyPassword) {
		t.Fatalf("empty password: %v", err)
	}
	if err := s.ChangePassword(ctx, []byte("second")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, path, []byte(testPassword), Options{}); !errors.Is(err, ErrInvalidPassword) {
		t.Fatalf("old password: %v", err)
	}
	s2, err := Open(ctx, path, []byte("second"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if w, err := s2.Get(ctx, "a"); err != nil || w.Mnemonic != testMnemonic {
		t.Fatalf("after change: %v", err)
	}
}

func TestDefaultKDF(t *testing.T) {
	if DefaultKDF.MemoryKiB < 64*1024 || DefaultKDF.Time < 3 {
		t.Fatalf("default KDF too weak: %+v", DefaultKDF)
	}
	TestKDF = nil
	defer func() { TestKDF = &cheapKDF }()
	_, path := newStore(t)
	info, err := Inspect(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if info.KDF != DefaultKDF || info.FormatVersion != FormatVersion {
		t.Fatalf("header = %+v", info)
	}
}

func TestBadFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func(name string, create bool) error {
		s, err := Open(ctx, filepath.Join(dir, name), []byte(testPassword), Options{Create: create})
		if err == nil {
			s.Close()
		}
		return err
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	if err := open("missing", false); !errors.Is(err, ErrNoStore) {
		t.Errorf("missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Error("a read created the file")
	}
	write("empty", nil)
	if err := open("empty", false); !errors.Is(err, ErrEmptyStore) {
		t.Errorf("empty: %v", err)
	}
	write("garbage", bytes.Repeat([]byte("garbage!"), 100))
	write("tatum", []byte("U2FsdGVkX1+hwHnwaZ7nk2XH/69JqRrO+EwY3Z9AREmAYMvtFcIalKGIDSToCLJ7"))
	write("short", []byte("SQLite format 3\x00\x10\x00"))
	for name, want := range map[string]error{"garbage": ErrCorrupt, "tatum": ErrTatumFormat, "short": ErrCorrupt} {
		for _, create := range []bool{false, true} {
			if err := open(name, create); !errors.Is(err, want) {
				t.Errorf("%s (create=%v): %v, want %v", name, create, err, want)
			}
		}
	}

	// A real store, truncated at several points.
	s, good := newStore(t)
	var many []Entry
	for i := 0; i < 300; i++ {
		many = append(many, Entry{ID: NewID(), Wallet: &Wallet{PrivateKey: testKey, Chain: "ETH"}})
	}
	if err := s.PutMany(ctx, many); err != nil {
		t.Fatal(err)
	}
	s.Close()
	full, _ := os.ReadFile(good)
	for _, n := range []int{50, 100, 4096, len(full) / 2, len(full) - 1} {
		write("trunc", full[:n])
		if err := open("trunc", false); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d of %d: %v", n, len(full), err)
		}
	}

	// Another application's SQLite database.
	other := filepath.Join(dir, "other.db")
	db, _ := sql.Open("sqlite", other)
	if _, err := db.Exec("CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := open("other.db", true); !errors.Is(err, ErrCorrupt) {
		t.Errorf("other sqlite db: %v", err)
	}

	// A newer format version, in SQLite's header and in ours.
	write("newer", full)
	db, _ = sql.Open("sqlite", filepath.Join(dir, "newer"))
	if _, err := db.Exec("PRAGMA user_version = 2"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := open("newer", false); !errors.Is(err, ErrNewerFormat) {
		t.Errorf("newer user_version: %v", err)
	}
	write("newer2", full)
	db, _ = sql.Open("sqlite", filepath.Join(dir, "newer2"))
	if _, err := db.Exec("UPDATE meta SET header = x'43535457' || x'0002' || substr(header, 7)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := open("newer2", false); !errors.Is(err, ErrNewerFormat) {
		t.Errorf("newer header version: %v", err)
	}

	// A record moved to another signature ID does not open.
	write("swapped", full)
	db, _ = sql.Open("sqlite", filepath.Join(dir, "swapped"))
	if _, err := db.Exec("INSERT INTO wallets SELECT 'moved', record FROM wallets LIMIT 1"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s3, err := Open(ctx, filepath.Join(dir, "swapped"), []byte(testPassword), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	if _, err := s3.Get(ctx, "moved"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("moved record: %v", err)
	}
}

func TestEmptyFileIsInitialised(t *testing.T) {
	// A crash between creating the file and the first commit leaves zero bytes;
	// the next write initialises it.
	path := filepath.Join(t.TempDir(), "wallet.dat")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path, []byte(testPassword), Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Inspect(context.Background(), path); err != nil {
		t.Fatal(err)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id := NewID()
		if len(id) != 36 || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) || seen[id] {
			t.Fatalf("bad id %q", id)
		}
		seen[id] = true
	}
}

// A BulkWrites store gives its connections the large page cache, a default
// one keeps SQLite's; a batch in random order is stored whole and matches
// its IDs (PutMany inserts in key order, not the caller's).
func TestBulkWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wallet.dat")
	for _, bulk := range []bool{false, true} {
		s, err := Open(ctx, path, []byte(testPassword), Options{Create: true, BulkWrites: bulk})
		if err != nil {
			t.Fatal(err)
		}
		var cache int64
		if err := s.db.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int64{false: -2000, true: -bulkCacheKiB}[bulk]; cache != want {
			t.Errorf("BulkWrites %v: cache_size %d, want %d", bulk, cache, want)
		}
		entries := make([]Entry, 3000)
		for i := range entries {
			entries[i] = Entry{ID: NewID(), Wallet: &Wallet{PrivateKey: fmt.Sprintf("0x%064x", i+1), Chain: "ETH"}}
		}
		if err := s.PutMany(ctx, entries); err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 1, 1500, 2999} {
			w, err := s.Get(ctx, entries[i].ID)
			if err != nil || w.PrivateKey != entries[i].Wallet.PrivateKey {
				t.Fatalf("entry %d: %+v, %v", i, w, err)
			}
		}
		s.Close()
	}
}
