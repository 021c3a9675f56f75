package walletstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/walletstore/crashtest"
)

// The re-key child: the test binary run again with these variables opens
// the store with FROM, prints "open", re-keys it to TO and prints "done".
const (
	rekeyChildEnv = "CUSTOS_WALLETSTORE_REKEY_CHILD"
	rekeyFromEnv  = "CUSTOS_WALLETSTORE_REKEY_FROM"
	rekeyToEnv    = "CUSTOS_WALLETSTORE_REKEY_TO"
)

func rekeyChild() {
	ctx := context.Background()
	s, err := Open(ctx, os.Getenv(rekeyChildEnv), []byte(os.Getenv(rekeyFromEnv)), Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	fmt.Println("open")
	if err := s.Rekey(ctx, []byte(os.Getenv(rekeyToEnv))); err != nil {
		fmt.Fprintln(os.Stderr, "child rekey:", err)
		os.Exit(3)
	}
	fmt.Println("done")
	s.Close()
	os.Exit(0)
}

// rekeyRun is one child's re-key, killed kill after it opened the store
// (never when kill is negative). It reports whether the child printed
// "done", whether it died of the SIGKILL, and how long the re-key took when
// it ran to the end.
func rekeyRun(t *testing.T, path, from, to string, kill time.Duration) (done, killed bool, took time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), rekeyChildEnv+"="+path, rekeyFromEnv+"="+from, rekeyToEnv+"="+to)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var opened time.Time
	for sc.Scan() {
		switch sc.Text() {
		case "open":
			opened = time.Now()
			if kill >= 0 {
				time.AfterFunc(kill, func() { _ = cmd.Process.Kill() })
			}
		case "done":
			done, took = true, time.Since(opened)
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws, ok := ee.Sys().(syscall.WaitStatus)
		killed = ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
		if !killed {
			t.Fatalf("re-key child failed: %v: %s", err, stderr.String())
		}
	} else if err != nil {
		t.Fatal(err)
	}
	if opened.IsZero() {
		t.Fatal("re-key child never opened the store")
	}
	return done, killed, took
}

// TestRekeyCrash kills re-keys of a 10,000-wallet store with SIGKILL at
// random instants: after each, the store opens with exactly one of the old
// and the new password (the new one whenever the child said it finished) and
// every wallet decrypts.
func TestRekeyCrash(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL semantics")
	}
	const wallets = 10_000
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wallet.dat")
	s, err := Open(ctx, path, []byte(pw(0)), Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	want := make(map[string]bool, wallets)
	for _, id := range fill(t, s, wallets, Wallet{PrivateKey: testKey, Chain: "ETH"}) {
		want[id] = true
	}
	s.Close()

	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(crashtest.SeedEnv); v != "" {
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("kill instants from seed %d (replay with %s=%d)", seed, crashtest.SeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, 2))

	// One undisturbed re-key measures how long one takes, the window the
	// kills are spread over.
	done, _, took := rekeyRun(t, path, pw(0), pw(1), -1)
	if !done {
		t.Fatal("undisturbed re-key did not finish")
	}
	gen := 1
	checkRekeyed(t, path, gen, want)
	t.Logf("undisturbed re-key of %d wallets: %v", wallets, took)

	const runs = 12
	midway := 0
	for i := 0; i < runs; i++ {
		kill := time.Duration(rng.Int64N(int64(took) * 11 / 10))
		done, killed, _ := rekeyRun(t, path, pw(gen), pw(gen+1), kill)
		opened := checkRekeyedEither(t, path, gen, want)
		switch {
		case done && opened != gen+1:
			t.Fatalf("run %d: the child finished but the new password does not open the store", i)
		case killed && !done:
			midway++
		}
		t.Logf("run %d: kill after %v: done=%v killed=%v, opens with generation %d", i, kill, done, killed, opened)
		gen = opened
	}
	if midway == 0 {
		t.Fatal("no kill landed inside a re-key: the test proved nothing")
	}
	t.Logf("%d of %d re-keys killed before they finished", midway, runs)
}

func pw(gen int) string { return fmt.Sprintf("password-%d", gen) }

// checkRekeyedEither opens the store with generation gen's password or the
// next one's (exactly one must work), checks every wallet, and returns the
// generation that opened it.
func checkRekeyedEither(t *testing.T, path string, gen int, want map[string]bool) int {
	t.Helper()
	ctx := context.Background()
	var opened []int
	for _, g := range []int{gen, gen + 1} {
		s, err := Open(ctx, path, []byte(pw(g)), Options{})
		if errors.Is(err, ErrInvalidPassword) {
			continue
		}
		if err != nil {
			t.Fatalf("generation %d: %v", g, err)
		}
		s.Close()
		opened = append(opened, g)
	}
	if len(opened) != 1 {
		t.Fatalf("store opens with generations %v, want exactly one of %d, %d", opened, gen, gen+1)
	}
	checkRekeyed(t, path, opened[0], want)
	return opened[0]
}

// checkRekeyed opens the store with generation gen's password and checks
// that it holds exactly the wanted wallets, every one decrypting.
func checkRekeyed(t *testing.T, path string, gen int, want map[string]bool) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, path, []byte(pw(gen)), Options{})
	if err != nil {
		t.Fatalf("generation %d: %v", gen, err)
	}
	defer s.Close()
	all, err := s.All(ctx)
	if err != nil {
		t.Fatalf("generation %d: %v", gen, err)
	}
	if len(all) != len(want) {
		t.Fatalf("generation %d: %d wallets, want %d", gen, len(all), len(want))
	}
	for _, e := range all {
		if !want[e.ID] || e.Wallet.PrivateKey != testKey {
			t.Fatalf("generation %d: unexpected wallet %s", gen, e.ID)
		}
	}
}
