package main

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// serve refuses a loopback receiver unless --webhook-allow-private is set;
// with it, a completed transaction reaches the receiver signed.
func TestServeWebhooks(t *testing.T) {
	got := make(chan [2]string, 4)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- [2]string{string(b), r.Header.Get("X-Payload-Hash")}
	}))
	defer rcv.Close()
	for _, allow := range []bool{false, true} {
		dir := t.TempDir()
		stdout, _, code := runCLI(t, "", "apikey", "create", "--name", "app", "--data-dir", dir)
		var key struct{ APIKey string }
		if code != 0 || json.Unmarshal([]byte(stdout), &key) != nil {
			t.Fatalf("apikey create: %d %q", code, stdout)
		}
		args := []string{"--data-dir", dir}
		if allow {
			args = append(args, "--webhook-allow-private")
		}
		srv := startServe(t, args...)
		call := func(method, path, body string) (int, string) {
			req, _ := http.NewRequest(method, srv.base+path, strings.NewReader(body))
			req.Header.Set("X-API-Key", key.APIKey)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		status, body := call("POST", "/v3/subscription", `{"type":"KMS_COMPLETED_TX","attr":{"url":"`+rcv.URL+`"}}`)
		if !allow {
			if status != 400 || !strings.Contains(body, "must not reach") {
				t.Fatalf("loopback receiver without the flag: %d %s", status, body)
			}
			srv.stop()
			continue
		}
		if status != 200 {
			t.Fatalf("subscribe: %d %s", status, body)
		}
		if status, body := call("PUT", "/v3/subscription", `{"hmacSecret":"s3cret"}`); status != 204 {
			t.Fatalf("hmac: %d %s", status, body)
		}
		status, body = call("POST", "/v3/kms", `{"chain":"ETH","serializedTransaction":"{\"to\":\"0x`+strings.Repeat("ab", 20)+`\",\"value\":\"1\",\"nonce\":7,\"gas\":21000,\"gasPrice\":\"1\",\"chainId\":1}","hashes":["0b4f3c8e-5a6d-4f1e-9c2b-7d8e9f0a1b2c"]}`)
		var tx struct{ ID string }
		if status != 200 || json.Unmarshal([]byte(body), &tx) != nil {
			t.Fatalf("queue: %d %s", status, body)
		}
		if status, body := call("PUT", "/v3/kms/"+tx.ID+"/0xfeed00000000001", ""); status != 204 {
			t.Fatalf("complete: %d %s", status, body)
		}
		select {
		case g := <-got:
			if want := `{"signatureId":"` + tx.ID + `","txId":"0xfeed00000000001","subscriptionType":"KMS_COMPLETED_TX"}`; g[0] != want {
				t.Fatalf("body %s, want %s", g[0], want)
			}
			m := hmac.New(sha512.New, []byte("s3cret"))
			m.Write([]byte(g[0]))
			if g[1] != base64.StdEncoding.EncodeToString(m.Sum(nil)) {
				t.Fatalf("x-payload-hash %q does not verify", g[1])
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no delivery")
		}
		srv.stop()
	}
}
