package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// installedBinary is where the units expect custos.
const installedBinary = "/usr/local/bin/custos"

// The units pass systemd-analyze verify without a word of complaint
// (verify reports unknown keys and bad values but exits 0 for them), and
// keep their sandbox: a test lists the settings the issue asks for so that
// removing one is noticed.
func TestUnitsVerify(t *testing.T) {
	analyze := need(t, "systemd-analyze")
	// verify checks that ExecStart's program exists; this test binary stands
	// in for an installed custos.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	units, err := filepath.Glob(filepath.Join("systemd", "*.service"))
	if err != nil || len(units) != 2 {
		t.Fatalf("units %v: %v", units, err)
	}
	dir := t.TempDir()
	var copies []string
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		checkSandbox(t, filepath.Base(u), text)
		if !strings.Contains(text, "ExecStart="+installedBinary+" ") {
			t.Fatalf("%s: ExecStart does not run %s", u, installedBinary)
		}
		c := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(c, []byte(strings.ReplaceAll(text, installedBinary, exe)), 0o644); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, c)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, copies...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func checkSandbox(t *testing.T, name, unit string) {
	t.Helper()
	lines := map[string]bool{}
	for _, l := range strings.Split(unit, "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	want := []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "CapabilityBoundingSet=",
		"AmbientCapabilities=", "ReadWritePaths=/var/lib/custos", "User=custos"}
	if name == "custos-daemon.service" {
		// The password is a credential read from the credentials directory,
		// never an environment variable.
		want = append(want, "LoadCredential=password:/etc/custos/password")
		if !strings.Contains(unit, "--password-file %d/password") {
			t.Errorf("%s: the daemon does not read the password credential", name)
		}
	}
	for _, w := range want {
		if !lines[w] {
			t.Errorf("%s: no %q line", name, w)
		}
	}
	for _, env := range []string{"CUSTOS_PASSWORD", "TATUM_KMS_PASSWORD"} {
		if strings.Contains(unit, env) {
			t.Errorf("%s names %s: the password must come as a credential", name, env)
		}
	}
}
