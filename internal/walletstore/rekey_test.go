package walletstore

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// setHeader writes raw into the header row behind the store's back, as an
// attacker holding an old copy of the file would.
func setHeader(t *testing.T, path string, raw []byte) {
	t.Helper()
	db, err := openDB(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE meta SET header = ? WHERE id = 1", raw); err != nil {
		t.Fatal(err)
	}
}

func getHeader(t *testing.T, path string) []byte {
	t.Helper()
	db, err := openDB(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var raw []byte
	if err := db.QueryRow("SELECT header FROM meta WHERE id = 1").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestOldHeaderAttack is the attack of a leaked password plus an old copy of
// the header: put the old header back into the current file and open it with
// the old password. After a plain password change that reads every wallet,
// including one added after the change; after Rekey it reads none.
func TestOldHeaderAttack(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(*Store, context.Context, []byte) error
		opens  bool
	}{
		{"changepassword", (*Store).ChangePassword, true},
		{"rekey", (*Store).Rekey, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path := newStore(t)
			if err := s.Put(ctx, "before", &Wallet{PrivateKey: testKey, Chain: "ETH"}); err != nil {
				t.Fatal(err)
			}
			oldHeader := getHeader(t, path)
			if err := tc.change(s, ctx, []byte("new password")); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, "after", &Wallet{Mnemonic: testMnemonic, Chain: "BTC"}); err != nil {
				t.Fatal(err)
			}
			s.Close()

			// The new password opens everything; the old one the current file not at all.
			s2, err := Open(ctx, path, []byte("new password"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if all, err := s2.All(ctx); err != nil || len(all) != 2 {
				t.Fatalf("new password: %d wallets, %v", len(all), err)
			}
			s2.Close()
			if _, err := Open(ctx, path, []byte(testPassword), Options{}); !errors.Is(err, ErrInvalidPassword) {
				t.Fatalf("old password on the current header: %v", err)
			}

			setHeader(t, path, oldHeader)
			old, err := Open(ctx, path, []byte(testPassword), Options{})
			if err != nil {
				t.Fatalf("the old header no longer unwraps its own key: %v", err)
			}
			defer old.Close()
			for _, id := range []string{"before", "after"} {
				w, err := old.Get(ctx, id)
				if tc.opens {
					if err != nil || w == nil {
						t.Fatalf("%s: plain change was expected to stay open to the old header: %v", id, err)
					}
					continue
				}
				if err == nil {
					t.Fatalf("%s: the old password and header read the wallet after rekey", id)
				}
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s: %v", id, err)
				}
			}
		})
	}
}

func TestRekey(t *testing.T) {
	ctx := context.Background()
	s, path := newStore(t)
	var entries []Entry
	for i := 0; i < 50; i++ {
		entries = append(entries, Entry{ID: NewID(), Wallet: &Wallet{PrivateKey: testKey, Chain: "ETH", Testnet: i%2 == 0}})
	}
	if err := s.PutMany(ctx, entries); err != nil {
		t.Fatal(err)
	}
	before := recordsOf(t, path)
	if err := s.Rekey(ctx, nil); !errors.Is(err, ErrEmptyPassword) {
		t.Fatalf("empty password: %v", err)
	}
	if !equalRecords(before, recordsOf(t, path)) {
		t.Fatal("a refused rekey changed records")
	}
	if err := s.Rekey(ctx, []byte("second")); err != nil {
		t.Fatal(err)
	}
	after := recordsOf(t, path)
	for id, rec := range before {
		if bytes.Equal(rec, after[id]) {
			t.Fatalf("record %s was not resealed", id)
		}
	}
	// The handle that re-keyed keeps working with the new key.
	if w, err := s.Get(ctx, entries[7].ID); err != nil || w.PrivateKey != testKey || w.Testnet {
		t.Fatalf("same handle after rekey: %+v %v", w, err)
	}
	if err := s.Put(ctx, "later", &Wallet{PrivateKey: testKey, Chain: "ETH"}); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, path, []byte("second"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	all, err := s2.All(ctx)
	if err != nil || len(all) != len(entries)+1 {
		t.Fatalf("after rekey: %d wallets, %v", len(all), err)
	}
}

// TestRekeyedUnderOpenHandle: a handle opened before another process
// re-keyed the file says so instead of calling the store corrupt.
func TestRekeyedUnderOpenHandle(t *testing.T) {
	ctx := context.Background()
	daemon, path := newStore(t)
	if err := daemon.Put(ctx, "a", &Wallet{PrivateKey: testKey, Chain: "ETH"}); err != nil {
		t.Fatal(err)
	}
	cli, err := Open(ctx, path, []byte(testPassword), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Rekey(ctx, []byte("second")); err != nil {
		t.Fatal(err)
	}
	cli.Close()
	if _, err := daemon.Get(ctx, "a"); !errors.Is(err, ErrRekeyed) {
		t.Fatalf("stale handle: %v", err)
	}
	if _, err := daemon.All(ctx); !errors.Is(err, ErrRekeyed) {
		t.Fatalf("stale handle, All: %v", err)
	}
	// Nor does it store a wallet sealed with the replaced key.
	if err := daemon.Put(ctx, "b", &Wallet{PrivateKey: testKey, Chain: "ETH"}); !errors.Is(err, ErrRekeyed) {
		t.Fatalf("stale handle, Put: %v", err)
	}
	fresh, err := Open(ctx, path, []byte("second"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if ids, _ := fresh.IDs(ctx); len(ids) != 1 {
		t.Fatalf("stale handle stored a wallet: %v", ids)
	}
	// A plain password change is not a re-key: an older handle keeps writing.
	if err := fresh.ChangePassword(ctx, []byte("third")); err != nil {
		t.Fatal(err)
	}
	stale, err := Open(ctx, path, []byte("third"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Close()
	if err := fresh.ChangePassword(ctx, []byte("fourth")); err != nil {
		t.Fatal(err)
	}
	if err := stale.Put(ctx, "c", &Wallet{PrivateKey: testKey, Chain: "ETH"}); err != nil {
		t.Fatalf("after a password change: %v", err)
	}
	if w, err := fresh.Get(ctx, "c"); err != nil || w.PrivateKey != testKey {
		t.Fatalf("wallet stored after a password change: %v", err)
	}
}

func recordsOf(t *testing.T, path string) map[string][]byte {
	t.Helper()
	db, err := openDB(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT id, record FROM wallets")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var id string
		var rec []byte
		if err := rows.Scan(&id, &rec); err != nil {
			t.Fatal(err)
		}
		out[id] = rec
	}
	return out
}

func equalRecords(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for id, r := range a {
		if !bytes.Equal(r, b[id]) {
			return false
		}
	}
	return true
}
