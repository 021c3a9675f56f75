// Package crashtest runs writer processes against one store file and kills
// some of them with SIGKILL at random moments, collecting what each printed
// before it died. A writer is the test binary itself, run again with an
// environment variable that its TestMain or init turns into the writer loop.
// Only tests import it.
package crashtest

import (
	"bufio"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SeedEnv, when set, is the seed of the kill delays, so that a failing run
// can be replayed with the seed it logged.
const SeedEnv = "CUSTOS_CRASH_SEED"

// Writers describes one run.
type Writers struct {
	Env  string // the variable that makes the test binary a writer; its value is Path
	Path string
	N    int              // how many writers
	Kill func(i int) bool // which writers are killed
	// A killed writer dies MinDelay plus up to 300 ms after it starts.
	MinDelay time.Duration
	// Parse reads one line a writer printed: the ID it reports stored, if any.
	Parse func(line []byte) (id string, ok bool)
}

// Run starts the writers, waits for every one to exit or die, and returns
// the IDs they printed and how many were killed. It fails the test when a
// writer that was not to be killed exits with an error, and when a writer
// that was to be killed did not die of that SIGKILL while still running: it
// died on its own, or finished before its kill (then the run tested no crash).
func Run(t *testing.T, w Writers) (answered []string, killed int) {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(SeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", SeedEnv, s, err)
		}
	}
	t.Logf("kill delays from seed %d (replay with %s=%d)", seed, SeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for i := 0; i < w.N; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), w.Env+"="+w.Path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		var delay time.Duration
		kill := w.Kill(i)
		if kill {
			killed++
			delay = w.MinDelay + time.Duration(rng.IntN(300))*time.Millisecond
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// sent receives what sending the SIGKILL returned, once the timer fired.
		sent := make(chan error, 1)
		var timer *time.Timer
		if kill {
			timer = time.AfterFunc(delay, func() { sent <- cmd.Process.Kill() })
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			printed := 0
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if id, ok := w.Parse(sc.Bytes()); ok {
					printed++
					mu.Lock()
					answered = append(answered, id)
					mu.Unlock()
				}
			}
			err := cmd.Wait()
			if !kill {
				if err != nil {
					t.Errorf("writer %d failed: %v: %s", i, err, stderr.String())
					return
				}
				t.Logf("writer %d: ran to the end, printed %d", i, printed)
				return
			}
			if timer.Stop() {
				t.Errorf("writer %d exited (%v) before its kill at %v: %s", i, err, delay, stderr.String())
				return
			}
			if kerr := <-sent; kerr != nil {
				t.Errorf("writer %d exited (%v) before its kill at %v (%v): %s", i, err, delay, kerr, stderr.String())
				return
			}
			if !killedBy(err, syscall.SIGKILL) {
				t.Errorf("writer %d did not die of its SIGKILL at %v: %v: %s", i, delay, err, stderr.String())
				return
			}
			t.Logf("writer %d: killed after %v, printed %d", i, delay, printed)
		}()
	}
	wg.Wait()
	return answered, killed
}

// killedBy reports whether err, from Wait, says the process died of sig.
func killedBy(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}
