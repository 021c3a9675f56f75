package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeEndToEndAndGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	stdout, _, code := runCLI(t, "", "apikey", "create", "--name", "app", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("apikey create exit %d", code)
	}
	var key struct{ ID, APIKey string }
	if err := json.Unmarshal([]byte(stdout), &key); err != nil || key.APIKey == "" {
		t.Fatalf("apikey create printed %q", stdout)
	}

	srv := startServe(t, "--data-dir", dir, "--node", "BTC:testnet=http://user:hunter2@127.0.0.1:1")
	base, errb := srv.base, srv.errb

	res, err := http.Get(base + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	req, _ := http.NewRequest("POST", base+"/v3/kms", strings.NewReader(
		`{"chain":"BSC","serializedTransaction":"{}","hashes":["0b4f3c8e-5a6d-4f1e-9c2b-7d8e9f0a1b2c"]}`))
	req.Header.Set("X-API-Key", key.APIKey)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 && res.StatusCode != 400 { // 400 once BSC's codec refuses "{}"
		t.Fatalf("POST /v3/kms: %d %s", res.StatusCode, body)
	}

	srv.stop()
	logs := errb.String()
	if strings.Contains(logs, "hunter2") || strings.Contains(logs, key.APIKey) {
		t.Fatalf("logs leak a secret: %s", logs)
	}
	if !strings.Contains(logs, `"msg":"stopped"`) {
		t.Fatalf("no clean stop in logs: %s", logs)
	}
}

// runningServe is a `custos serve` run in the test's process.
type runningServe struct {
	base string
	errb *syncBuffer
	stop func()
}

// startServe runs serve on a free loopback port with args and waits for its
// address; stop cancels it and checks that it exits cleanly.
func startServe(t *testing.T, args ...string) runningServe {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	errb := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), strings.NewReader(""), io.Discard, errb)
	}()
	addr := waitLog(t, errb, `"addr":"([^"]+)"`)
	return runningServe{base: "http://" + addr, errb: errb, stop: func() {
		t.Helper()
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("serve exited %d; stderr: %s", code, errb.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not stop on cancellation")
		}
	}}
}

// waitLog waits for the server's log to match re and returns its first group.
func waitLog(t *testing.T, errb *syncBuffer, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := rx.FindStringSubmatch(errb.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("the server's log never matched %s; stderr: %s", re, errb.String())
	return ""
}

// /metrics needs an admin key on the API listener and none on
// --metrics-listen; --rate-limit and --rate-burst limit each key.
func TestServeMetricsListenerAndRateLimit(t *testing.T) {
	dir := t.TempDir()
	stdout, _, _ := runCLI(t, "", "apikey", "create", "--name", "shop-name", "--scope", "queue", "--data-dir", dir)
	var key struct{ APIKey string }
	if err := json.Unmarshal([]byte(stdout), &key); err != nil {
		t.Fatalf("apikey create printed %q", stdout)
	}
	srv := startServe(t, "--data-dir", dir, "--metrics-listen", "127.0.0.1:0", "--rate-limit", "1", "--rate-burst", "1")
	defer srv.stop()
	metricsAddr := waitLog(t, srv.errb, `"msg":"metrics","listen":"([^"]+)"`)
	get := func(url, key string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if key != "" {
			req.Header.Set("X-API-Key", key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	if code, body, _ := get(srv.base+"/metrics", ""); code != 401 || strings.Contains(body, "shop-name") {
		t.Fatalf("/metrics on the API without a key: %d %s", code, body)
	}
	// The webhook worker's series are on the same registry.
	if code, body, _ := get("http://"+metricsAddr+"/metrics", ""); code != 200 || !strings.Contains(body, `name="shop-name"`) ||
		!strings.Contains(body, `custos_webhook_deliveries_total{result="dead_lettered"} 0`) {
		t.Fatalf("/metrics on --metrics-listen: %d", code)
	}
	if code, body, _ := get(srv.base+"/v3/kms/aaaaaaaaaaaaaaaaaaaaaaaa", key.APIKey); code != 403 || !strings.Contains(body, "kms.tx.notFound") {
		t.Fatalf("first request: %d %s", code, body)
	}
	if code, body, h := get(srv.base+"/v3/kms/aaaaaaaaaaaaaaaaaaaaaaaa", key.APIKey); code != 429 || h.Get("Retry-After") != "1" {
		t.Fatalf("second request at --rate-limit 1 --rate-burst 1: %d %s", code, body)
	}
}

func TestServeRefusesBadSettings(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"serve", "--data-dir", dir, "--node", "ETH"},
		{"serve", "--data-dir", dir, "--node", "ETH:devnet=http://x"},
		{"serve", "--data-dir", dir, "--database", "postgres://u:p@h/db"},
		{"serve", "--data-dir", dir, "--database", "mysql://x"},
		{"serve", "--data-dir", dir, "--listen", "256.0.0.1:99999"},
		{"serve", "--data-dir", dir, "--rate-limit", "-1"},
		{"serve", "--data-dir", dir, "--utxo-source", "NOPE=node"},
		{"serve", "--data-dir", dir, "--utxo-source", "BTC=esplora:https://esplora.invalid/api"}, // no BTC node
	} {
		_, stderr, code := runCLI(t, "", args...)
		if code == 0 || !strings.Contains(stderr, `"error"`) {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
