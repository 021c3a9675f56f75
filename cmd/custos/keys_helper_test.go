package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/walletstore"
)

const (
	cliPassword = "cli-test-password-42"
	abandon12   = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
)

var cheapKDF = walletstore.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

func TestMain(m *testing.M) {
	walletstore.TestKDF = &cheapKDF
	if args := os.Getenv(mainChildEnv); args != "" {
		mainChild(args)
		return
	}
	if p := os.Getenv(cliCrashChildEnv); p != "" {
		cliCrashChild(p)
		return
	}
	os.Exit(m.Run())
}

// keyCLI runs key-management commands against one temporary store.
type keyCLI struct {
	t    *testing.T
	path string
}

func newKeyCLI(t *testing.T) *keyCLI {
	t.Helper()
	walletstore.TestKDF = &cheapKDF
	// The password comes from stdin in these tests, never from the environment.
	t.Setenv("CUSTOS_PASSWORD", "")
	t.Setenv("TATUM_KMS_PASSWORD", "")
	os.Unsetenv("CUSTOS_PASSWORD")
	os.Unsetenv("TATUM_KMS_PASSWORD")
	t.Setenv("CUSTOS_PATH", "")
	os.Unsetenv("CUSTOS_PATH")
	return &keyCLI{t: t, path: filepath.Join(t.TempDir(), "wallet.dat")}
}

// run runs one command with the store password as the first stdin line,
// followed by extra lines.
func (k *keyCLI) run(lines []string, args ...string) (string, string, int) {
	k.t.Helper()
	in := strings.Join(append([]string{cliPassword}, lines...), "\n") + "\n"
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--path", k.path}, args...), strings.NewReader(in), &out, &errb)
	return out.String(), errb.String(), code
}

// ok runs a command that must succeed and decodes its JSON output.
func (k *keyCLI) ok(v any, lines []string, args ...string) {
	k.t.Helper()
	out, errs, code := k.run(lines, args...)
	if code != 0 {
		k.t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			k.t.Fatalf("%v: output %q: %v", args, out, err)
		}
	}
}

// fails runs a command that must fail with a JSON error on stderr containing
// want, and leave the store file as it was.
func (k *keyCLI) fails(want string, lines []string, args ...string) {
	k.t.Helper()
	before, _ := os.ReadFile(k.path)
	out, errs, code := k.run(lines, args...)
	if code == 0 {
		k.t.Fatalf("%v: succeeded: %s", args, out)
	}
	var e struct{ Error string }
	if json.Unmarshal([]byte(errs), &e) != nil || !strings.Contains(e.Error, want) {
		k.t.Fatalf("%v: stderr %q, want a JSON error containing %q", args, errs, want)
	}
	if out != "" {
		k.t.Fatalf("%v: printed %q on failure", args, out)
	}
	after, _ := os.ReadFile(k.path)
	if !bytes.Equal(before, after) {
		k.t.Fatalf("%v: store changed by a failed command", args)
	}
}

type sigOut struct {
	SignatureID string `json:"signatureId"`
	XPub        string `json:"xpub"`
	Address     string `json:"address"`
}
