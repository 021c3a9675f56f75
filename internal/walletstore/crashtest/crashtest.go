// Package crashtest runs writer processes against one store file and kills
// some of them with SIGKILL at random moments, collecting what each printed
// before it died. A writer is the test binary itself, run again with an
// environment variable that its TestMain or init turns into the writer loop.
// Only tests import it.
package crashtest

import (
	"bufio"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

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
// the IDs they printed and how many were killed. A writer that was not
// killed and fails fails the test.
func Run(t *testing.T, w Writers) (answered []string, killed int) {
	t.Helper()
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for i := 0; i < w.N; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), w.Env+"="+w.Path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		kill := w.Kill(i)
		if kill {
			killed++
			delay := w.MinDelay + time.Duration(rng.IntN(300))*time.Millisecond
			time.AfterFunc(delay, func() { cmd.Process.Kill() })
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if id, ok := w.Parse(sc.Bytes()); ok {
					mu.Lock()
					answered = append(answered, id)
					mu.Unlock()
				}
			}
			if err := cmd.Wait(); !kill && err != nil {
				t.Errorf("writer failed: %v: %s", err, stderr.String())
			}
		}()
	}
	wg.Wait()
	return answered, killed
}
