package walletstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkGet measures one wallet lookup (open handle, no KDF) on stores of
// 1 and 100,000 wallets: the cost must not grow with the store.
func BenchmarkGet(b *testing.B) {
	for _, n := range []int{1, 100_000} {
		b.Run(fmt.Sprintf("wallets=%d", n), func(b *testing.B) {
			ctx := context.Background()
			s, ids := filledStore(b, n, Wallet{PrivateKey: testKey, Chain: "ETH"})
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := s.Get(ctx, ids[i%n]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRekey measures one re-key (new data key, every record resealed,
// one transaction) of stores of 10,000 and 100,000 wallets; the default
// Argon2id parameters wrap the new key, as in the command. Each iteration
// re-keys the same store again, so every one does the full work.
func BenchmarkRekey(b *testing.B) {
	TestKDF = nil
	defer func() { TestKDF = &cheapKDF }()
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("wallets=%d", n), func(b *testing.B) {
			ctx := context.Background()
			s, _ := filledStore(b, n, Wallet{Mnemonic: testMnemonic, XPub: "xpub", Chain: "ETH"})
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if err := s.Rekey(ctx, []byte(fmt.Sprint("password ", i))); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/rekey")
		})
	}
}

// BenchmarkOpen is the rest of a CLI lookup: opening and unlocking the store
// with the default Argon2id parameters (the one KDF run per command).
func BenchmarkOpen(b *testing.B) {
	TestKDF = nil
	defer func() { TestKDF = &cheapKDF }()
	path := filepath.Join(b.TempDir(), "w.dat")
	s, err := Open(context.Background(), path, []byte(testPassword), Options{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	for b.Loop() {
		s, err := Open(context.Background(), path, []byte(testPassword), Options{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// filledStore is a new store, closed with the benchmark, holding n copies of w.
func filledStore(b *testing.B, n int, w Wallet) (*Store, []string) {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "w.dat"), []byte(testPassword), Options{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, fill(b, s, n, w)
}

// fill stores n copies of w under fresh IDs, in batches of 10,000, and
// returns the IDs.
func fill(tb testing.TB, s *Store, n int, w Wallet) []string {
	tb.Helper()
	ids := make([]string, n)
	entries := make([]Entry, 0, 10_000)
	for i := range ids {
		ids[i] = NewID()
		entries = append(entries, Entry{ID: ids[i], Wallet: &w})
		if len(entries) == cap(entries) || i == n-1 {
			if err := s.PutMany(context.Background(), entries); err != nil {
				tb.Fatal(err)
			}
			entries = entries[:0]
		}
	}
	return ids
}

// BenchmarkEachRef is the daemon's first look at a store of 10,000 wallets:
// each record read and opened once for its chain and network.
func BenchmarkEachRef(b *testing.B) {
	ctx := context.Background()
	s, _ := filledStore(b, 10_000, Wallet{PrivateKey: testKey, Chain: "ETH", Testnet: true})
	for b.Loop() {
		n := 0
		if err := s.EachRef(ctx, func(string, Ref) error { n++; return nil }); err != nil || n != 10_000 {
			b.Fatal(n, err)
		}
	}
}
