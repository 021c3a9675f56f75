package main

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// version prints the build as text, and as JSON with --json; an unstamped
// test binary is devel. The release test (internal/release) checks the
// stamped values in a real build.
func TestVersion(t *testing.T) {
	out, _, code := runCLI(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "custos devel\n") || !strings.Contains(out, "go     "+runtime.Version()+" ") {
		t.Fatalf("version: %d %q", code, out)
	}
	out, _, code = runCLI(t, "", "version", "--json")
	var v buildInfo
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil {
		t.Fatalf("version --json: %d %v %q", code, err, out)
	}
	if v.Version != "devel" || v.Go != runtime.Version() || v.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Fatalf("version --json: %+v", v)
	}
}
