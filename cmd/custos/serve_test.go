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

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dir,
			"--node", "BTC:testnet=http://user:hunter2@127.0.0.1:1"}, strings.NewReader(""), io.Discard, &errb)
	}()
	addrRE := regexp.MustCompile(`"addr":"([^"]+)"`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(errb.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("server did not report its address; stderr: %s", errb.String())
	}
	base := "http://" + addr

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

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d; stderr: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on cancellation")
	}
	logs := errb.String()
	if strings.Contains(logs, "hunter2") || strings.Contains(logs, key.APIKey) {
		t.Fatalf("logs leak a secret: %s", logs)
	}
	if !strings.Contains(logs, `"msg":"stopped"`) {
		t.Fatalf("no clean stop in logs: %s", logs)
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
	} {
		_, stderr, code := runCLI(t, "", args...)
		if code == 0 || !strings.Contains(stderr, `"error"`) {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
