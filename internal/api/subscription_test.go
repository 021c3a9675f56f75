package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/webhook"
)

func (e *env) subscribe(key, typ, url string) string {
	e.t.Helper()
	var out struct{ ID string }
	e.do("POST", "/v3/subscription", key, map[string]any{"type": typ, "attr": map[string]string{"url": url}}).want(e.t, 200, &out)
	if len(out.ID) != 24 {
		e.t.Fatalf("subscription id %q", out.ID)
	}
	return out.ID
}

func (e *env) claim() []pending.Delivery {
	e.t.Helper()
	ds, err := e.store.ClaimDeliveries(context.Background(), pending.DeliveryClaim{Owner: "t", Lease: time.Minute, Max: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

func TestSubscriptionsArePerTenant(t *testing.T) {
	e := newEnv(t)
	a1 := e.subscribe(e.keyA, "KMS_COMPLETED_TX", "https://8.8.8.8/done")
	a2 := e.subscribe(e.keyA, "KMS_FAILED_TX", "https://8.8.8.8/failed")
	b1 := e.subscribe(e.keyB, "KMS_COMPLETED_TX", "https://1.1.1.1/b")
	var list []subscriptionView
	e.do("GET", "/v3/subscription?pageSize=10", e.keyA, nil).want(t, 200, &list)
	want := []subscriptionView{{a1, "KMS_COMPLETED_TX", subscriptionAttr{"https://8.8.8.8/done"}}, {a2, "KMS_FAILED_TX", subscriptionAttr{"https://8.8.8.8/failed"}}}
	if len(list) != 2 || list[0] != want[0] || list[1] != want[1] {
		t.Fatalf("A's subscriptions %+v", list)
	}
	e.do("GET", "/v3/subscription?pageSize=1&offset=1", e.keyA, nil).want(t, 200, &list)
	if len(list) != 1 || list[0].ID != a2 {
		t.Fatalf("second page %+v", list)
	}
	e.do("GET", "/v3/subscription", e.keyB, nil).want(t, 200, &list)
	if len(list) != 1 || list[0].ID != b1 {
		t.Fatalf("B's subscriptions %+v", list)
	}
	// Another tenant's subscription answers as an unknown one.
	e.do("DELETE", "/v3/subscription/"+a1, e.keyB, nil).wantError(t, 403, CodeSubscriptionNotFound)
	e.do("DELETE", "/v3/subscription/"+a1, e.keyA, nil).want(t, 204, nil)
	e.do("DELETE", "/v3/subscription/"+a1, e.keyA, nil).wantError(t, 403, CodeSubscriptionNotFound)
	e.do("DELETE", "/v3/subscription/nope", e.keyA, nil).wantError(t, 400, CodeValidation)
	e.do("GET", "/v3/subscription?pageSize=51", e.keyA, nil).wantError(t, 400, CodeValidation)
	e.do("GET", "/v3/subscription?offset=-1", e.keyA, nil).wantError(t, 400, CodeValidation)

	// B's events go to B's receivers only.
	id := e.create(e.keyB, "ETH", sigA)
	e.do("PUT", "/v3/kms/"+id+"/0xfeed000000001", e.keyB, nil).want(t, 204, nil)
	ds := e.claim()
	if len(ds) != 1 || ds[0].SubscriptionID != b1 || ds[0].Tenant == e.idA {
		t.Fatalf("deliveries %+v", ds)
	}
}

func TestSubscriptionValidation(t *testing.T) {
	e := newEnv(t)
	for _, body := range []string{
		`{"type":"ADDRESS_TRANSACTION","attr":{"url":"https://8.8.8.8/"}}`,
		`{"type":"KMS_COMPLETED_TX"}`,
		`{"type":"KMS_COMPLETED_TX","attr":{}}`,
		`{"type":"KMS_COMPLETED_TX","attr":{"url":""}}`,
		`{"type":"KMS_COMPLETED_TX","attr":{"url":"ftp://8.8.8.8/"}}`,
		`{"type":"KMS_COMPLETED_TX","attr":{"url":"https://8.8.8.8/` + strings.Repeat("a", 500) + `"}}`,
		`{"type":"KMS_COMPLETED_TX","Type":"KMS_FAILED_TX","attr":{"url":"https://8.8.8.8/"}}`,
		`{"type":1}`, `[]`, ``,
	} {
		e.do("POST", "/v3/subscription", e.keyA, body).wantError(t, 400, CodeValidation)
	}
	for _, body := range []string{`{}`, `{"hmacSecret":""}`, `{"hmacSecret":"` + strings.Repeat("s", 501) + `"}`, `{"hmacSecret":1}`} {
		e.do("PUT", "/v3/subscription", e.keyA, body).wantError(t, 400, CodeValidation)
	}
}

// Tenants choose receiver URLs: one reaching the server's own network is
// refused unless the operator allows it.
func TestSubscriptionRefusesPrivateURLs(t *testing.T) {
	private := []string{"http://127.0.0.1:8700/", "http://localhost/", "http://[::1]/", "http://10.0.0.5/",
		"http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0/"}
	e := newEnv(t)
	for _, u := range private {
		got := e.do("POST", "/v3/subscription", e.keyA, map[string]any{"type": "KMS_COMPLETED_TX", "attr": map[string]string{"url": u}}).
			wantError(t, 400, CodeValidation)
		if len(got.Data) != 1 || !strings.HasPrefix(got.Data[0], "attr.url: must not reach") {
			t.Fatalf("%s: %+v", u, got)
		}
	}
	loop := newEnv(t, func(c *Config) { c.Webhooks = webhook.Guard{AllowLoopback: true} })
	loop.subscribe(loop.keyA, "KMS_COMPLETED_TX", "http://127.0.0.1:8700/")
	loop.subscribe(loop.keyA, "KMS_COMPLETED_TX", "http://localhost:8700/")
	loop.do("POST", "/v3/subscription", loop.keyA, `{"type":"KMS_COMPLETED_TX","attr":{"url":"http://10.0.0.5/"}}`).wantError(t, 400, CodeValidation)
	open := newEnv(t, func(c *Config) { c.Webhooks = webhook.Guard{AllowPrivate: true} })
	for _, u := range private {
		open.subscribe(open.keyA, "KMS_FAILED_TX", u)
	}
}

func TestHMACSecretRoutes(t *testing.T) {
	e := newEnv(t)
	e.subscribe(e.keyA, "KMS_COMPLETED_TX", "https://8.8.8.8/")
	e.do("PUT", "/v3/subscription", e.keyA, `{"hmacSecret":"s3cret"}`).want(t, 204, nil)
	id := e.create(e.keyA, "ETH", sigA)
	e.do("PUT", "/v3/kms/"+id+"/0xfeed000000001", e.keyA, nil).want(t, 204, nil)
	if ds := e.claim(); len(ds) != 1 || ds[0].Secret != "s3cret" {
		t.Fatalf("deliveries %+v", ds)
	}
	e.do("DELETE", "/v3/subscription", e.keyA, nil).want(t, 204, nil)
	id = e.create(e.keyA, "ETH", sigA)
	e.do("PUT", "/v3/kms/"+id+"/0xfeed000000002", e.keyA, nil).want(t, 204, nil)
	if ds := e.claim(); len(ds) != 1 || ds[0].Secret != "" {
		t.Fatalf("deliveries after disabling %+v", ds)
	}
}

// A signer's error report and a refusal reach KMS_FAILED_TX subscribers.
func TestSignerErrorsAreNotified(t *testing.T) {
	e := newEnv(t)
	e.subscribe(e.keyA, "KMS_FAILED_TX", "https://8.8.8.8/")
	ids := []string{e.create(e.keyA, "ETH", sigA), e.create(e.keyA, "ETH", sigA)}
	e.do("POST", "/v3/tatum/kms/batch", e.keyA, map[string]any{"errors": []map[string]any{
		{"signatureId": ids[0], "error": "insufficient funds"},
		{"signatureId": ids[1], "error": "no", "refused": true}}}).want(t, 204, nil)
	got := map[string]string{}
	for _, d := range e.claim() {
		got[d.PendingID] = string(d.Body)
	}
	want := map[string]string{
		ids[0]: `{"signatureId":"` + ids[0] + `","error":"insufficient funds","subscriptionType":"KMS_FAILED_TX"}`,
		ids[1]: `{"signatureId":"` + ids[1] + `","error":"` + refusedPrefix + `no","subscriptionType":"KMS_FAILED_TX"}`,
	}
	if len(got) != 2 || got[ids[0]] != want[ids[0]] || got[ids[1]] != want[ids[1]] {
		t.Fatalf("bodies %v, want %v", got, want)
	}
}

func TestDeadLetterRoutes(t *testing.T) {
	e := newEnv(t)
	sub := e.subscribe(e.keyA, "KMS_COMPLETED_TX", "https://8.8.8.8/")
	id := e.create(e.keyA, "ETH", sigA)
	e.do("PUT", "/v3/kms/"+id+"/0xfeed000000001", e.keyA, nil).want(t, 204, nil)
	d := e.claim()[0]
	if err := e.store.DeliveryFailed(context.Background(), "t", d.ID, "receiver answered HTTP 500", 0, true); err != nil {
		t.Fatal(err)
	}
	var list []deadLetterView
	e.do("GET", "/v3/subscription/dead-letters", e.keyB, nil).want(t, 200, &list)
	if len(list) != 0 {
		t.Fatalf("B sees A's dead letters: %+v", list)
	}
	e.do("GET", "/v3/subscription/dead-letters", e.keyA, nil).want(t, 200, &list)
	if len(list) != 1 {
		t.Fatalf("dead letters %+v", list)
	}
	l := list[0]
	var body map[string]string
	if l.ID != d.ID || l.EventID != d.EventID || l.SubscriptionID != sub || l.SignatureID != id || l.Attempts != 1 ||
		l.LastError != "receiver answered HTTP 500" || json.Unmarshal(l.Body, &body) != nil || body["txId"] != "0xfeed000000001" {
		t.Fatalf("dead letter %+v", l)
	}
	retry := "/v3/subscription/dead-letters/" + l.ID + "/retry"
	e.do("POST", retry, e.keyB, nil).wantError(t, 403, CodeDeadLetterNotFound)
	e.do("POST", "/v3/subscription/dead-letters/nope/retry", e.keyA, nil).wantError(t, 400, CodeValidation)
	e.do("POST", retry, e.keyA, nil).want(t, 204, nil)
	e.do("POST", retry, e.keyA, nil).wantError(t, 403, CodeDeadLetterNotFound)
	if ds := e.claim(); len(ds) != 1 || ds[0].EventID != d.EventID {
		t.Fatalf("after retry: %+v", ds)
	}
}

func TestGetTxStatus(t *testing.T) {
	e := newEnv(t)
	status := func(id string) string {
		t.Helper()
		var d map[string]any
		e.do("GET", "/v3/kms/"+id, e.keyA, nil).want(t, 200, &d)
		return d["status"].(string)
	}
	ids := []string{e.create(e.keyA, "ETH", sigA), e.create(e.keyA, "ETH", sigA), e.create(e.keyA, "ETH", sigA), e.create(e.keyA, "ETH", sigA)}
	if got := status(ids[0]); got != "queued" {
		t.Fatalf("status %q, want queued", got)
	}
	e.do("PUT", "/v3/kms/"+ids[1]+"/0xfeed000000001", e.keyA, nil).want(t, 204, nil)
	e.do("POST", "/v3/tatum/kms/batch", e.keyA, map[string]any{"errors": []map[string]any{
		{"signatureId": ids[2], "error": "no", "refused": true}}}).want(t, 204, nil)
	if _, err := e.store.Fail(context.Background(), e.idA, ids[3], pending.ExpiredReason+"window passed"); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"queued", "broadcast", "failed", "expired"} {
		if got := status(ids[i]); got != want {
			t.Fatalf("tx %d: status %q, want %q", i, got, want)
		}
	}
}
