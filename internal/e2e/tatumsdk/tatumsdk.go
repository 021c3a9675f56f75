// Package tatumsdk runs the Tatum SDK conformance harness (conformance/tatum,
// Tatum's JavaScript SDK v1 at pinned versions) from the end-to-end tests:
// the daemon poll of kms.js and the KMS client calls of client.js, each
// pointed at the API under test. It is test support: only tests import it.
package tatumsdk

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// EnvDir names the harness directory; scripts/setup.d/tatum-harness.sh
// installs it and sets it.
const EnvDir = "CUSTOS_TEST_TATUM_HARNESS"

// Dir is the installed harness. Without it the test skips on a developer's
// machine and fails under CI=true, so that CI never passes by running nothing.
func Dir(t testing.TB) string {
	t.Helper()
	p := os.Getenv(EnvDir)
	if p == "" {
		msg := EnvDir + " is not set: the Tatum SDK harness (npm ci in conformance/tatum) is installed and named by scripts/test; run scripts/test, or set " + EnvDir
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI: the test must run)")
		}
		t.Skip(msg)
	}
	if _, err := os.Stat(filepath.Join(p, "kms.js")); err != nil {
		t.Fatalf("%s=%s: %v", EnvDir, p, err)
	}
	return p
}

// Wallet is one wallet of the harness's configuration, as Tatum KMS holds it:
// a mnemonic (keys derived at the transaction's index), a private key, or
// for XLM and XRP a secret (the only key Tatum KMS signs those chains with).
type Wallet struct {
	SignatureID string `json:"signatureId"`
	Chain       string `json:"chain"`
	Mnemonic    string `json:"mnemonic,omitempty"`
	PrivateKey  string `json:"privateKey,omitempty"`
	Secret      string `json:"secret,omitempty"`
}

// Result is one line of kms.js's output: what became of one pending
// transaction.
type Result struct {
	ID        string `json:"id"`
	Chain     string `json:"chain"`
	Signed    bool   `json:"signed"`
	Broadcast bool   `json:"broadcast"`
	TxData    string `json:"txData"`
	TxID      string `json:"txId"`
	Error     string `json:"error"`
}

// Sign runs one poll of the Tatum KMS daemon's work with the SDK (kms.js)
// against the API at apiURL, for the testnet wallets given, and returns its
// output per pending id.
func Sign(t testing.TB, apiURL, apiKey string, chains []string, wallets []Wallet) map[string]Result {
	t.Helper()
	out := map[string]Result{}
	for _, line := range Run(t, apiURL, apiKey, "kms.js", map[string]any{"testnet": true, "chains": chains, "wallets": wallets}) {
		var r Result
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("kms.js output %s: %v", line, err)
		}
		out[r.ID] = r
	}
	return out
}

// Run runs one script of the harness with cfg (written to a file, its only
// argument) and returns its stdout, one JSON value a line. The SDK sends
// every HTTP call it makes to TATUM_API_URL, without retries, so a refused
// call shows at once. The exit status is the caller's to judge from the
// lines: it is logged, with stderr.
func Run(t testing.TB, apiURL, apiKey, script string, cfg any) []json.RawMessage {
	t.Helper()
	dir := Dir(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to run the Tatum SDK harness: %v", err)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "harness.json")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, script), cfgPath)
	cmd.Env = append(os.Environ(), "TATUM_API_URL="+apiURL, "TATUM_API_KEY="+apiKey, "TATUM_RETRIES=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("%s ran in %s (exit: %v)\n%s%s", script, time.Since(start).Round(time.Millisecond), runErr, stdout.String(), stderr.String())
	var lines []json.RawMessage
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" {
			continue
		}
		if !json.Valid([]byte(line)) {
			t.Fatalf("%s printed %q, not JSON", script, line)
		}
		lines = append(lines, json.RawMessage(line))
	}
	return lines
}
