// Package deploy holds what runs Custos as a service: the container image,
// the compose file, the systemd units, the Prometheus alert rules and the
// Grafana dashboard. Its tests check them against the code.
package deploy

import (
	"os"
	"os/exec"
	"testing"
)

// need returns the path of a tool the test needs. Without it the test skips
// locally and fails in CI (CI=true), where scripts/setup.d provides it.
func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (CI: the test must run; scripts/setup.d installs it)", tool)
		}
		t.Skipf("%s is missing", tool)
	}
	return p
}
