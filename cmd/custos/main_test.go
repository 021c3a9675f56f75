package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// runCLI runs the CLI in-process and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func TestUnknownCommandIsJSONError(t *testing.T) {
	_, stderr, code := runCLI(t, "", "nosuchcommand")
	if code == 0 {
		t.Fatal("want non-zero exit")
	}
	var e struct{ Error string }
	if err := json.Unmarshal([]byte(stderr), &e); err != nil || e.Error == "" {
		t.Fatalf("stderr %q is not a JSON error line", stderr)
	}
}
