package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/pending/postgres/pgtest"
	"github.com/custoskms/custos/internal/tlsreload"
	"github.com/custoskms/custos/internal/tlsreload/tlstest"
)

func TestApproverOperatorAddListRemove(t *testing.T) {
	dir := t.TempDir()
	const key = "65f1c0de0123456789abcdef"
	out, stderr, code := runCLI(t, "", "approver", "operator", "add", "alice", "--display-name", "Alice A", "--data-dir", dir,
		"--origin", "https://approver.example", "--api-key", key)
	var added struct{ Operator, EnrolURL string }
	if code != 0 || json.Unmarshal([]byte(out), &added) != nil || added.Operator != "alice" ||
		!strings.HasPrefix(added.EnrolURL, "https://approver.example/enrol#token=") {
		t.Fatalf("add: exit %d, %q %q", code, out, stderr)
	}
	if _, stderr, code := runCLI(t, "", "approver", "operator", "add", "alice", "--data-dir", dir); code == 0 || !strings.Contains(stderr, "already exists") {
		t.Fatalf("add twice: %d %q", code, stderr)
	}
	if _, stderr, code := runCLI(t, "", "approver", "operator", "add", "Bad Name", "--data-dir", dir); code == 0 || !strings.Contains(stderr, "operator name") {
		t.Fatalf("bad name: %d %q", code, stderr)
	}
	if _, stderr, code := runCLI(t, "", "approver", "operator", "add", "bob", "--api-key", "my key", "--data-dir", dir); code == 0 || !strings.Contains(stderr, "API key id") {
		t.Fatalf("bad API key id: %d %q", code, stderr)
	}
	out, _, code = runCLI(t, "", "approver", "operator", "list", "--data-dir", dir)
	if code != 0 || strings.Contains(out, "token") {
		t.Fatalf("list: %d %q", code, out)
	}
	var rows []struct {
		Name, DisplayName string
		Passkeys          int
		APIKeys           []string
	}
	if json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 || rows[0].DisplayName != "Alice A" || rows[0].Passkeys != 0 ||
		len(rows[0].APIKeys) != 1 || rows[0].APIKeys[0] != key {
		t.Fatalf("list: %q", out)
	}
	if out, _, code := runCLI(t, "", "approver", "operator", "remove", "alice", "--data-dir", dir); code != 0 || !strings.Contains(out, `"removed":true`) {
		t.Fatalf("remove: %d %q", code, out)
	}
	if _, stderr, code := runCLI(t, "", "approver", "operator", "remove", "alice", "--data-dir", dir); code == 0 || !strings.Contains(stderr, "no such operator") {
		t.Fatalf("remove twice: %d %q", code, stderr)
	}
	rep, _, err := audit.VerifyFile(filepath.Join(dir, "audit.log"), "")
	if err != nil || rep.Entries != 2 {
		t.Fatalf("audit log: %+v %v, want 2 entries (added, removed)", rep, err)
	}
}

func TestApproverServeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CUSTOS_APPROVAL_SECRET", "")
	sec := filepath.Join(dir, "secret")
	if err := os.WriteFile(sec, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no secret":        {nil, "CUSTOS_APPROVAL_SECRET"},
		"http origin":      {[]string{"--origin", "http://approver.example"}, "--origin: http only for a loopback host"},
		"unreadable rules": {[]string{"--approval-secret-file", sec, "--rules", filepath.Join(dir, "none.json")}, "--rules"},
		"other database":   {[]string{"--approval-secret-file", sec, "--database", "mysql://x/y"}, "want sqlite:PATH or postgres://"},
		"negative limit":   {[]string{"--approval-secret-file", sec, "--signin-limit", "-1"}, "--signin-limit"},
		"no burst":         {[]string{"--approval-secret-file", sec, "--signin-burst", "0"}, "--signin-burst"},
	} {
		args := append([]string{"approver", "serve", "--data-dir", dir}, tc.args...)
		if _, stderr, code := runCLI(t, "", args...); code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, %q", name, code, stderr)
		}
	}
}

// `custos approver serve` answers the daemon's own client: an auto-approve
// rule approves at once, anything else waits for operators. The sign-in
// limit's flag and variable reach the console, and the daemon's requests
// are not counted by it.
func TestApproverServeAnswersTheDaemon(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.json")
	if err := os.WriteFile(rules, []byte(`{"rules":[{"name":"small","below":"1000","approvals":0}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("CUSTOS_APPROVAL_SECRET", "s3cret")
	t.Setenv("CUSTOS_APPROVER_SIGNIN_BURST", "1")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"approver", "serve", "--data-dir", dir, "--listen", addr, "--rules", rules, "--signin-limit", "1"},
			strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()
	ask, err := daemon.NewApprover(daemon.ApproverConfig{URL: "http://" + addr + "/approval", Secret: []byte("s3cret")})
	if err != nil {
		t.Fatal(err)
	}
	subject := func(id, amount string) daemon.Subject {
		return daemon.Subject{Tx: daemon.PendingTx{ID: id, Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{"w"}},
			Intent: intent.Intent{Chain: "ETH", Network: "mainnet", Transfers: []intent.Transfer{{To: "0xa", Amount: amount}}}, Decoded: true}
	}
	deadline := time.Now().Add(10 * time.Second)
	for err = ask.Approve(ctx, subject("65f1c0de0000000000000001", "999")); err != nil && time.Now().Before(deadline); err = ask.Approve(ctx, subject("65f1c0de0000000000000001", "999")) {
		time.Sleep(50 * time.Millisecond) // the server is starting
	}
	if err != nil {
		t.Fatalf("small transfer: %v (%s)", err, stderr.String())
	}
	for i, want := range []int{http.StatusOK, http.StatusTooManyRequests} {
		req, err := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/signin/begin", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", "http://localhost:8710")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want || (want == http.StatusTooManyRequests && res.Header.Get("Retry-After") != "60") {
			t.Fatalf("sign-in %d with a burst of 1 a minute: %d, Retry-After %q", i, res.StatusCode, res.Header.Get("Retry-After"))
		}
	}
	if err := ask.Approve(ctx, subject("65f1c0de0000000000000002", "1000")); err == nil || !strings.Contains(err.Error(), "not decided yet") {
		t.Fatalf("transfer at the bound: %v, want pending", err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
}

// --database postgres://… keeps the approver's operators in PostgreSQL.
func TestApproverOperatorsInPostgres(t *testing.T) {
	url := pgtest.NewSchema(t)
	dir := t.TempDir()
	if _, stderr, code := runCLI(t, "", "approver", "operator", "add", "alice", "--data-dir", dir, "--database", url); code != 0 {
		t.Fatalf("add: %d %q", code, stderr)
	}
	out, stderr, code := runCLI(t, "", "approver", "operator", "list", "--data-dir", dir, "--database", url)
	if code != 0 || !strings.Contains(out, `"name":"alice"`) {
		t.Fatalf("list: %d %q %q", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "approver.db")); !os.IsNotExist(err) {
		t.Fatalf("a SQLite file was made next to PostgreSQL: %v", err)
	}
}

// selfSigned writes a certificate for localhost of serial and its key as
// PEM files in dir (over any there), and returns their paths and a pool
// trusting the certificate.
func selfSigned(t *testing.T, dir string, serial int64) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	p := tlstest.NewPair(t, serial)
	certFile, keyFile = p.Write(t, dir)
	return certFile, keyFile, p.Pool()
}

// With --tls-cert and --tls-key the console and the approval route speak
// HTTPS only; half a pair, an http origin or a bad file stop the start. A
// pair renewed over the files is served without a restart.
func TestApproverServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir, 1)
	t.Setenv("CUSTOS_APPROVAL_SECRET", "s3cret")
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"cert alone":  {[]string{"--tls-cert", certFile}, "--tls-cert and --tls-key go together"},
		"key alone":   {[]string{"--tls-key", keyFile}, "--tls-cert and --tls-key go together"},
		"http origin": {[]string{"--tls-cert", certFile, "--tls-key", keyFile}, "with --tls-cert the console is https://"},
		"key as cert": {[]string{"--tls-cert", keyFile, "--tls-key", keyFile, "--origin", "https://127.0.0.1:8710"}, "--tls-cert/--tls-key:"},
	} {
		args := append([]string{"approver", "serve", "--data-dir", dir, "--listen", "127.0.0.1:0"}, tc.args...)
		if _, stderr, code := runCLI(t, "", args...); code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, %q", name, code, stderr)
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	ln.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	var stderr bytes.Buffer
	go func() {
		// A passkey's relying party is a domain, never an IP address: the
		// origin is localhost, which the client dials as 127.0.0.1.
		done <- run(ctx, []string{"approver", "serve", "--data-dir", dir, "--listen", addr, "--origin", "https://localhost:" + port,
			"--tls-cert", certFile, "--tls-key", keyFile},
			strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	var res *http.Response
	deadline := time.Now().Add(10 * time.Second)
	for res, err = client.Get("https://" + addr + "/signin"); err != nil && time.Now().Before(deadline); res, err = client.Get("https://" + addr + "/signin") {
		time.Sleep(50 * time.Millisecond) // the server is starting
	}
	if err != nil {
		t.Fatalf("https: %v (%s)", err, stderr.String())
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.TLS == nil {
		t.Fatalf("https sign-in page: %d, TLS %v", res.StatusCode, res.TLS != nil)
	}
	// A renewal: the next look at the files (every few seconds) serves it.
	_, _, renewed := selfSigned(t, dir, 2)
	serial := func() (int64, error) {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{RootCAs: renewed, ServerName: "localhost"}}}
		res, err := c.Get("https://" + addr + "/signin")
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.TLS.PeerCertificates[0].SerialNumber.Int64(), nil
	}
	n, err := serial()
	for deadline := time.Now().Add(3 * tlsreload.DefaultInterval); err != nil && time.Now().Before(deadline); n, err = serial() {
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil || n != 2 {
		t.Fatalf("after the renewal: serial %d, %v (%s)", n, err, stderr.String())
	}
	// Plain HTTP on the same port is not served.
	if res, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/signin"); err == nil {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP served the console next to TLS")
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "plain HTTP") {
		t.Fatalf("a warning about plain HTTP with TLS on: %s", stderr.String())
	}
}

// --signin-limit 0 is no limit; the console's 0 would be its default.
func TestApproverSignInLimitOff(t *testing.T) {
	for limit, want := range map[int]int{0: -1, 1: 1, 10: 10} {
		if got := (&approverServeConfig{signinLimit: limit}).signInRate(); got != want {
			t.Errorf("--signin-limit %d: console rate %d, want %d", limit, got, want)
		}
	}
}

func TestApproverPlainHTTPWarning(t *testing.T) {
	for listen, warn := range map[string]bool{
		"127.0.0.1:8710": false, "localhost:8710": false, "[::1]:8710": false,
		"0.0.0.0:8710": true, ":8710": true, "192.0.2.7:8710": true, "approver.example:443": true,
	} {
		if got := plainWarning(listen, false); (got != "") != warn || (warn && !strings.Contains(got, "--tls-cert")) {
			t.Errorf("%s: warning %q, want one: %v", listen, got, warn)
		}
		if got := plainWarning(listen, true); got != "" {
			t.Errorf("%s with TLS: warning %q", listen, got)
		}
	}
}
