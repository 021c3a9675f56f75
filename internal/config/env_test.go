package config

import (
	"os"
	"path/filepath"
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

func TestGetenvAliasAndEnvFile(t *testing.T) {
	t.Setenv("CUSTOS_API_URL", "")
	os.Unsetenv("CUSTOS_API_URL")
	t.Setenv("TATUM_API_URL", "http://tatum-alias")
	if v, ok := Getenv("CUSTOS_API_URL"); !ok || v != "http://tatum-alias" {
		t.Fatalf("alias: %q %v", v, ok)
	}
	t.Setenv("CUSTOS_API_URL", "http://custos")
	if v, _ := Getenv("CUSTOS_API_URL"); v != "http://custos" {
		t.Fatalf("CUSTOS_ wins: %q", v)
	}

	p := filepath.Join(t.TempDir(), ".env")
	os.WriteFile(p, []byte("CUSTOS_API_URL=http://file\nCUSTOS_TEST_ONLY_VAR=fromfile\n"), 0o600)
	t.Setenv("CUSTOS_TEST_ONLY_VAR", "")
	os.Unsetenv("CUSTOS_TEST_ONLY_VAR")
	if err := LoadEnvFile(p); err != nil {
		t.Fatal(err)
	}
	defer os.Unsetenv("CUSTOS_TEST_ONLY_VAR")
	if v, _ := Getenv("CUSTOS_API_URL"); v != "http://custos" {
		t.Fatalf("env file must not override a set variable: %q", v)
	}
	if v := os.Getenv("CUSTOS_TEST_ONLY_VAR"); v != "fromfile" {
		t.Fatalf("env file value: %q", v)
	}
}
