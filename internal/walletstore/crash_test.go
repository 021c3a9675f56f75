package walletstore

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/walletstore/crashtest"
)

const crashChildEnv = "CUSTOS_WALLETSTORE_CRASH_CHILD"

// A writer stores crashIterations transactions: every tenth a batch of 20.
const (
	crashIterations = 300
	crashPerWriter  = crashIterations/10*20 + crashIterations - crashIterations/10
)

// crashChild is a writer process: it stores wallets one by one (and some in
// batches) and prints each signature ID only after its transaction committed.
func crashChild() {
	path := os.Getenv(crashChildEnv)
	ctx := context.Background()
	s, err := Open(ctx, path, []byte(testPassword), Options{Create: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; i < crashIterations; i++ {
		n := 1
		if i%10 == 0 {
			n = 20
		}
		var batch []Entry
		for j := 0; j < n; j++ {
			batch = append(batch, Entry{ID: NewID(), Wallet: &Wallet{PrivateKey: testKey, Chain: "ETH"}})
		}
		if err := s.PutMany(ctx, batch); err != nil {
			fmt.Fprintln(os.Stderr, "child put:", err)
			os.Exit(3)
		}
		for _, e := range batch {
			fmt.Fprintln(out, e.ID)
		}
		out.Flush()
	}
	s.Close()
	os.Exit(0)
}

// TestCrashConcurrentWriters runs several writer processes against one store
// (they also race to create it) and kills some with SIGKILL at random moments.
// Every ID a writer printed must be in the store afterwards, and the store must open.
func TestCrashConcurrentWriters(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL semantics")
	}
	path := filepath.Join(t.TempDir(), "wallet.dat")
	const writers = 5
	answered, killed := crashtest.Run(t, crashtest.Writers{
		Env: crashChildEnv, Path: path, N: writers,
		Kill:     func(i int) bool { return i%2 == 0 }, // writers 0, 2, 4 are killed
		MinDelay: 20 * time.Millisecond,
		// A whole line: the ID was printed after commit.
		Parse: func(line []byte) (string, bool) { return string(line), len(line) == 36 },
	})

	s, err := Open(context.Background(), path, []byte(testPassword), Options{})
	if err != nil {
		t.Fatalf("store does not open after the crashes: %v", err)
	}
	defer s.Close()
	ids, err := s.IDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	have := make(map[string]bool, len(ids))
	for _, id := range ids {
		have[id] = true
	}
	for _, id := range answered {
		if !have[id] {
			t.Errorf("wallet %s was reported stored but is missing", id)
		}
	}
	if _, err := s.All(context.Background()); err != nil {
		t.Fatalf("records do not decrypt: %v", err)
	}
	if len(answered) < (writers-killed)*crashPerWriter {
		t.Fatalf("only %d answers from %d surviving writers", len(answered), writers-killed)
	}
	t.Logf("%d wallets answered, %d in store, %d writers killed", len(answered), len(ids), killed)
}
