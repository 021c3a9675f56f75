package main

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/vectors"
)

func TestDaemonHelpShowsDefaults(t *testing.T) {
	stdout, stderr, code := runCLI(t, "", "daemon", "--help")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"--concurrency int", "(env CUSTOS_CONCURRENCY) (default 1024)",
		"--period duration", "(default 5s)", "--lease duration", "(default 1m0s)",
		"--external-url string", "--run-once", "--transaction-ids string",
		"--api-url string", "(env CUSTOS_API_URL, TATUM_API_URL) (default \"" + defaultAPIURL + "\")",
		"--env-file string",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	// The long description names Tatum's spellings; the flag list does not.
	_, flags, _ := strings.Cut(stdout, "Flags:")
	for _, alias := range []string{"4 × CPUs", "--externalUrl", "--runOnce", "--transactionIds", "--envFile"} {
		if strings.Contains(flags, alias) {
			t.Errorf("help shows %q", alias)
		}
	}
}

// Tatum KMS's spellings (docs/design.md §8) still parse: the command gets as far as
// the missing API key.
func TestTatumFlagSpellingsStillParse(t *testing.T) {
	t.Setenv("CUSTOS_API_KEY", "")
	t.Setenv("TATUM_API_KEY", "")
	envFile := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(envFile, []byte("# nothing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "", "--envFile", envFile, "daemon", "--runOnce", "--testnet", "--chain", "ETH",
		"--period", "5", "--externalUrl", "http://127.0.0.1:1/ok", "--externalUrlMethod", "POST",
		"--externalUrlTimeout", "3", "--wallets", "a,b", "--transactionIds", "c,d", "--path", "x.dat",
		"--aws=false", "--azure=false", "--vgs=false", "--vault=false")
	if code == 0 || !strings.Contains(stderr, "CUSTOS_API_KEY / TATUM_API_KEY: not set") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestDaemonBadDurationsNameFlagAndVariable(t *testing.T) {
	t.Setenv("CUSTOS_API_KEY", "k")
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--period", "soon"}, "", "--period / CUSTOS_PERIOD: "},
		{[]string{"--lease", "1500ms"}, "", "--lease / CUSTOS_LEASE: must be whole seconds"},
		{nil, "CUSTOS_LEASE=9999999", "--lease / CUSTOS_LEASE: must be whole seconds from 0 to"},
		{[]string{"--concurrency", "0"}, "", "--concurrency / CUSTOS_CONCURRENCY: must be at least 1"},
	} {
		t.Setenv("CUSTOS_LEASE", "")
		if k, v, ok := strings.Cut(tc.env, "="); ok {
			t.Setenv(k, v)
		}
		_, stderr, code := runCLI(t, "", append([]string{"daemon", "--runOnce", "--chain", "ETH"}, tc.args...)...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v %s: exit %d, stderr %q, want %q", tc.args, tc.env, code, stderr, tc.want)
		}
	}
}

// --lease keeps its integer-seconds form, takes durations, and follows the
// one precedence rule: flag, environment, env file, default.
func TestDaemonLeaseSettings(t *testing.T) {
	cheapStoreKDF(t)
	var v vectors.Signing
	for _, r := range vectors.SigningFor("ETH") {
		if r.Testnet {
			v = r
			break
		}
	}
	path := storeForVector(t, v)
	t.Setenv("CUSTOS_PASSWORD", signTestPassword)
	t.Setenv("CUSTOS_API_KEY", "k")
	envFile := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(envFile, []byte("CUSTOS_LEASE=7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		env  string
		want int
	}{
		{nil, "", 60},
		{[]string{"--lease", "0"}, "", 0},
		{[]string{"--lease", "45"}, "", 45},
		{[]string{"--lease", "2m"}, "", 120},
		{nil, "30s", 30},
		{[]string{"--lease", "45"}, "30s", 45},
		{[]string{"--env-file", envFile}, "", 7},
		{[]string{"--env-file", envFile}, "30", 30},
	} {
		t.Setenv("CUSTOS_LEASE", tc.env)
		fake := &daemonAPI{submitted: map[string]string{}}
		srv := httptest.NewServer(fake.handler())
		t.Setenv("CUSTOS_API_URL", srv.URL)
		args := append([]string{"daemon", "--run-once", "--testnet", "--chain", "ETH", "--path", path,
			"--ledger", filepath.Join(t.TempDir(), "ledger.db")}, tc.args...)
		_, stderr, code := runCLI(t, "", args...)
		srv.Close()
		if code != 0 || len(fake.leases) == 0 || fake.leases[0] != tc.want {
			t.Errorf("%v CUSTOS_LEASE=%q: exit %d, leases %v, want %d (%s)", tc.args, tc.env, code, fake.leases, tc.want, stderr)
		}
	}
}

// --env-file feeds every command's settings and the diagnostics, below the
// environment and above the defaults, without changing the process
// environment.
func TestEnvFileFeedsSettingsWithoutTouchingTheEnvironment(t *testing.T) {
	for _, k := range []string{"CUSTOS_PATH", "TATUM_KMS_PATH", "CUSTOS_API_URL", "TATUM_API_URL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	dir := t.TempDir()
	fromFile := filepath.Join(dir, "file.dat")
	envFile := filepath.Join(dir, ".env")
	if err := os.WriteFile(envFile, []byte("CUSTOS_PATH="+fromFile+"\nCUSTOS_API_URL=http://from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(wantPath string, args ...string) {
		t.Helper()
		stdout, stderr, code := runCLI(t, "", append(args, "checkconfig")...)
		var out struct {
			Wallet      struct{ Path string }
			Environment map[string]string
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &out) != nil {
			t.Fatalf("%v: exit %d, %q %q", args, code, stdout, stderr)
		}
		if out.Wallet.Path != wantPath || out.Environment["CUSTOS_API_URL"] != "http://from-file" {
			t.Errorf("%v: path %q, CUSTOS_API_URL %q; want %q and the file's URL", args, out.Wallet.Path, out.Environment["CUSTOS_API_URL"], wantPath)
		}
	}
	check(fromFile, "--env-file", envFile)
	check(filepath.Join(dir, "flag.dat"), "--envFile", envFile, "--path", filepath.Join(dir, "flag.dat"))
	if _, set := os.LookupEnv("CUSTOS_PATH"); set {
		t.Fatal("--env-file set CUSTOS_PATH in the process environment")
	}
	t.Setenv("TATUM_KMS_PATH", filepath.Join(dir, "env.dat"))
	check(filepath.Join(dir, "env.dat"), "--env-file", envFile)
}

// checkconfig shows every variable a command's settings or a password source
// read — the list is not kept by hand — and a secret one only as set.
func TestCheckconfigShowsEveryVariable(t *testing.T) {
	a := &app{lookupEnv: os.LookupEnv, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
	newRoot(a)
	vars := a.knownVariables()
	for _, want := range []string{"CUSTOS_PERIOD", "CUSTOS_LEASE", "CUSTOS_DATABASE", "CUSTOS_APPROVAL_SECRET", "TATUM_API_KEY", "VAULT_TOKEN"} {
		if !slices.ContainsFunc(vars, func(v config.Variable) bool { return v.Name == want }) {
			t.Errorf("%s is not among the known variables", want)
		}
	}
	const marker = "marker-value-7f3a"
	for _, v := range vars {
		t.Setenv(v.Name, marker)
	}
	// A usable wallet path, so checkconfig reports on it instead of failing.
	t.Setenv("CUSTOS_PATH", filepath.Join(t.TempDir(), "wallet.dat"))
	stdout, stderr, code := runCLI(t, "", "checkconfig")
	var out struct{ Environment map[string]string }
	if code != 0 || json.Unmarshal([]byte(stdout), &out) != nil {
		t.Fatalf("exit %d, %q %q", code, stdout, stderr)
	}
	for _, v := range vars {
		got, ok := out.Environment[v.Name]
		switch {
		case !ok:
			t.Errorf("%s is set but checkconfig does not show it", v.Name)
		case v.Secret && got != "set (hidden)":
			t.Errorf("secret %s shown as %q", v.Name, got)
		case !v.Secret && v.Name != "CUSTOS_PATH" && got != marker:
			t.Errorf("%s shown as %q", v.Name, got)
		}
	}
}
