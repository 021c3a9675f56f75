package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/walletstore/crashtest"
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
	answered, _ := crashtest.Run(t, crashtest.Writers{
		Env: cliCrashChildEnv, Path: path, N: 4,
		Kill:     func(i int) bool { return i%2 == 1 },
		MinDelay: 30 * time.Millisecond,
		Parse: func(line []byte) (string, bool) {
			var s sigOut
			if json.Unmarshal(line, &s) != nil || s.SignatureID == "" {
				return "", false
			}
			return s.SignatureID, true
		},
	})
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
