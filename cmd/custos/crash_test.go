package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const cliCrashChildEnv = "CUSTOS_CLI_CRASH_CHILD"

// cliCrashChild runs store commands one after another, as a script would, and
// passes each command's answer through to stdout.
func cliCrashChild(path string) {
	const key = "0xe01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc"
	for i := 0; i < 60; i++ {
		args := []string{"--path", path, "storemanagedprivatekey", "ETH"}
		in := cliPassword + "\n" + key + "\n"
		if i%3 == 0 {
			args, in = []string{"--path", path, "generatemanagedprivatekeybatch", "ETH", "10"}, cliPassword+"\n"
		}
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, strings.NewReader(in), &out, &errb); code != 0 {
			fmt.Fprint(os.Stderr, errb.String())
			os.Exit(code)
		}
		os.Stdout.Write(out.Bytes())
	}
	os.Exit(0)
}

// TestCLICrash: several CLI writer processes at once, some killed with SIGKILL
// at random moments. Every signature ID a command printed must be in the
// store, and the store must open and decrypt.
func TestCLICrash(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL semantics")
	}
	k := newKeyCLI(t)
	path := k.path
	var (
		mu       sync.Mutex
		answered []string
		wg       sync.WaitGroup
	)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for i := 0; i < 4; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), cliCrashChildEnv+"="+path)
		stdout, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		kill := i%2 == 1
		if kill {
			time.AfterFunc(time.Duration(30+rng.IntN(300))*time.Millisecond, func() { cmd.Process.Kill() })
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var s sigOut
				if json.Unmarshal(sc.Bytes(), &s) == nil && s.SignatureID != "" {
					mu.Lock()
					answered = append(answered, s.SignatureID)
					mu.Unlock()
				}
			}
			if err := cmd.Wait(); !kill && err != nil {
				t.Errorf("writer: %v: %s", err, stderr.String())
			}
		}()
	}
	wg.Wait()
	var exp map[string]json.RawMessage
	k.ok(&exp, nil, "export")
	for _, id := range answered {
		if _, ok := exp[id]; !ok {
			t.Errorf("%s answered but missing", id)
		}
	}
	if len(answered) < 2*(40+20*10) {
		t.Fatalf("only %d answers", len(answered))
	}
	t.Logf("%d answered, %d stored", len(answered), len(exp))
	_ = filepath.Base(path)
}
