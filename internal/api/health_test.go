package api

import (
	"strings"
	"testing"
)

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	var st map[string]string
	e.do("GET", "/healthz", "", nil).want(t, 200, &st)
	if st["status"] != "ok" {
		t.Fatalf("healthz %v", st)
	}
	e.do("GET", "/readyz", "", nil).want(t, 200, &st)
	if st["status"] != "ready" {
		t.Fatalf("readyz %v", st)
	}
	e.store.Close()
	e.do("GET", "/readyz", "", nil).wantError(t, 503, CodeStoreUnavailable)
	e.do("GET", "/healthz", "", nil).want(t, 200, nil)
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.create(e.keyA, "ETH", sigA)
	e.do("GET", "/v3/kms/pending/ETH", e.keyA, nil).want(t, 200, nil)
	e.do("GET", "/v3/kms/pending/ETH", e.keyA, nil).want(t, 200, nil)
	r := e.do("GET", "/metrics", e.keyA, nil)
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	body := string(r.body)
	for _, want := range []string{
		`custos_api_key_credits{api_key_id="` + e.idA + `",name="a",network="mainnet"} 2`,
		`custos_credits_charged_total{api_key_id="` + e.idA + `"} 2`,
		`custos_http_requests_total{code="200",route="GET /v3/kms/pending/{chain}"} 2`,
		`custos_http_request_duration_seconds_bucket`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, e.keyA) {
		t.Fatal("metrics contain an API key")
	}
}
