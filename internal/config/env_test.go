package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseEnv(t *testing.T) {
	got, err := ParseEnv(strings.NewReader("# comment\n\nexport A=1\nB = \"two words\"\nC='x=y'\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "1", "B": "two words", "C": "x=y"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, err := ParseEnv(strings.NewReader("secretvalue-without-key\n")); err == nil || strings.Contains(err.Error(), "secretvalue") {
		t.Fatalf("bad line: err = %v (must fail without echoing the line)", err)
	}
}

// mapEnv stands for the process environment.
func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestSourceGetPrecedence(t *testing.T) {
	names := []string{"CUSTOS_API_URL", "TATUM_API_URL"}
	for _, tc := range []struct {
		name      string
		env, file map[string]string
		want      string
	}{
		{"nothing", nil, nil, ""},
		{"file", nil, map[string]string{"TATUM_API_URL": "file-tatum"}, "file-tatum"},
		{"CUSTOS_ beats Tatum in the file", nil, map[string]string{"TATUM_API_URL": "file-tatum", "CUSTOS_API_URL": "file-custos"}, "file-custos"},
		{"environment beats file", map[string]string{"TATUM_API_URL": "env-tatum"}, map[string]string{"CUSTOS_API_URL": "file-custos"}, "env-tatum"},
		{"CUSTOS_ beats Tatum", map[string]string{"TATUM_API_URL": "env-tatum", "CUSTOS_API_URL": "env-custos"}, nil, "env-custos"},
		{"empty is unset", map[string]string{"CUSTOS_API_URL": "", "TATUM_API_URL": "env-tatum"}, nil, "env-tatum"},
	} {
		got, ok := NewSource(mapEnv(tc.env), tc.file).Get(names...)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: %q %v, want %q", tc.name, got, ok, tc.want)
		}
	}
}

func TestWithFileLeavesTheProcessEnvironmentAlone(t *testing.T) {
	const name = "CUSTOS_TEST_ONLY_VAR"
	t.Setenv(name, "")
	os.Unsetenv(name)
	p := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(p, []byte(name+"=fromfile\nCUSTOS_NODE_ETH=http://node\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := os.Environ()
	src, err := OSEnv().WithFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := src.Get(name); !ok || v != "fromfile" {
		t.Fatalf("file value: %q %v", v, ok)
	}
	if _, set := os.LookupEnv(name); set || !slices.Equal(before, os.Environ()) {
		t.Fatal("loading an env file changed the process environment")
	}
	if env := src.Environ([]string{"CUSTOS_NODE_ETH=http://env"}); !slices.Contains(env, name+"=fromfile") || slices.Contains(env, "CUSTOS_NODE_ETH=http://node") {
		t.Fatalf("Environ: %q (file adds what the environment lacks, never overrides)", env)
	}
	if _, err := OSEnv().WithFile(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("missing env file accepted")
	}
}
