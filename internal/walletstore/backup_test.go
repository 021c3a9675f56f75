package walletstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSnapshotCopiesSealedRecordsWithoutThePassword(t *testing.T) {
	ctx := context.Background()
	s, path := newStore(t)
	if err := s.PutMany(ctx, []Entry{
		{ID: "a", Wallet: &Wallet{Mnemonic: testMnemonic, Chain: "ETH"}},
		{ID: "b", Wallet: &Wallet{PrivateKey: testKey, Chain: "BSC"}},
	}); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	info, err := Snapshot(ctx, path, dst)
	if err != nil {
		t.Fatal(err)
	}
	if info.Wallets != 2 || info.FormatVersion != FormatVersion {
		t.Fatalf("snapshot info %+v", info)
	}
	raw, _ := os.ReadFile(dst)
	if strings.Contains(string(raw), testMnemonic[:20]) || strings.Contains(string(raw), testKey[2:20]) {
		t.Fatal("the copy holds a secret in the clear")
	}
	c, err := Open(ctx, dst, []byte(testPassword), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n, err := c.Verify(ctx); err != nil || n != 2 {
		t.Fatalf("verify copy: %d records, %v", n, err)
	}
	if w, err := c.Get(ctx, "b"); err != nil || w.PrivateKey != testKey {
		t.Fatalf("copy: %+v, %v", w, err)
	}

	tatum := filepath.Join(t.TempDir(), "wallet.dat")
	if err := os.WriteFile(tatum, []byte("U2FsdGVkX1+junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Snapshot(ctx, tatum, filepath.Join(t.TempDir(), "x.db")); !errors.Is(err, ErrTatumFormat) {
		t.Fatalf("snapshot of a Tatum file: %v", err)
	}
	if _, err := Snapshot(ctx, filepath.Join(t.TempDir(), "none.dat"), filepath.Join(t.TempDir(), "x.db")); !errors.Is(err, ErrNoStore) {
		t.Fatalf("snapshot of no file: %v", err)
	}
}

// Verify does not stop at the first damaged record: it names each, and the
// sound ones are still read.
func TestVerifyNamesEveryDamagedRecord(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	for _, id := range []string{"a", "b", "c", "d"} {
		if err := s.Put(ctx, id, &Wallet{PrivateKey: testKey, Chain: "ETH"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Verify(ctx); err != nil || n != 4 {
		t.Fatalf("sound store: %d, %v", n, err)
	}
	// b's ciphertext loses a bit; d gets c's record, sealed for another ID.
	var rec []byte
	if err := s.db.QueryRowContext(ctx, "SELECT record FROM wallets WHERE id = 'b'").Scan(&rec); err != nil {
		t.Fatal(err)
	}
	rec[len(rec)/2] ^= 1
	if _, err := s.db.ExecContext(ctx, "UPDATE wallets SET record = ? WHERE id = 'b'", rec); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE wallets SET record = (SELECT record FROM wallets WHERE id = 'c') WHERE id = 'd'`); err != nil {
		t.Fatal(err)
	}
	n, err := s.Verify(ctx)
	if n != 4 || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged store: %d records, %v", n, err)
	}
	for _, want := range []string{"record b fails", "record d fails"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("verify: %q; want %q", err, want)
		}
	}
	for _, sound := range []string{"record a ", "record c "} {
		if strings.Contains(err.Error(), sound) {
			t.Fatalf("verify blames a sound record: %q", err)
		}
	}
}
