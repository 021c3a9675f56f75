package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/ratelimit"
)

// routeContract, one per row of routeMap, is the contract of each route: the scope its key needs and its
// body cap, with a sample request. A route the server serves but this map
// lacks (or the other way round) fails TestRouteTableIsTheMap, so a new route
// cannot go without a decision.
type routeContract struct {
	name    string // method and pattern, as the route table names it
	path    string // a sample request path
	body    string // a sample body
	scope   pending.Scopes
	maxBody int64
}

// pathFor is the route's path for a request with key: the web3 gateway's
// key travels in its path.
func (m routeContract) pathFor(key string) string {
	return strings.ReplaceAll(m.path, "{"+pathKeyParam+"}", key)
}

var routeMap = []routeContract{
	{"POST /v3/kms", "/v3/kms", v3Sample("POST", "/v3/kms"), pending.ScopeQueue, MaxTxBody},
	{"GET /v3/kms/{id}", "/v3/kms/aaaaaaaaaaaaaaaaaaaaaaaa", "", pending.ScopeQueue, MaxNoBody},
	{"GET /v3/kms/transactions", "/v3/kms/transactions?status=confirmed", "", pending.ScopeQueue, MaxNoBody},
	{"DELETE /v3/kms/{id}", "/v3/kms/aaaaaaaaaaaaaaaaaaaaaaaa", "", pending.ScopeQueue, MaxNoBody},
	{"POST /v3/kms/speedup/{id}", "/v3/kms/speedup/aaaaaaaaaaaaaaaaaaaaaaaa", `{"gasPrice":"1000"}`, pending.ScopeQueue, MaxReplaceBody},
	{"POST /v3/kms/cancel/{id}", "/v3/kms/cancel/aaaaaaaaaaaaaaaaaaaaaaaa", "", pending.ScopeQueue, MaxReplaceBody},
	{"GET /v3/kms/pending/{chain}", "/v3/kms/pending/ETH", "", pending.ScopeSign, MaxNoBody},
	{"POST /v3/kms/pending/{chain}", "/v3/kms/pending/ETH", v3Sample("POST", "/v3/kms/pending/ETH"), pending.ScopeSign, DefaultMaxBody},
	{"POST /v3/kms/lease", "/v3/kms/lease", v3Sample("POST", "/v3/kms/lease"), pending.ScopeSign, MaxLeaseBody},
	{"PUT /v3/kms/{id}/{txId}", "/v3/kms/aaaaaaaaaaaaaaaaaaaaaaaa/0xaaaaaaaaaaaa", "", pending.ScopeSign, MaxNoBody},
	{"POST /v3/{slug}/broadcast", "/v3/ethereum/broadcast", v3Sample("POST", "/v3/ethereum/broadcast"), pending.ScopeSign, MaxTxBody},
	{"POST /v3/{slug}/broadcast/batch", "/v3/ethereum/broadcast/batch", `{"transactions":[{"txData":"0x01","signatureId":"ffffffffffffffffffffffff"}]}`, pending.ScopeSign, MaxBroadcastBatchBody},
	{"POST /v3/{slug}/transaction", "/v3/ethereum/transaction", v3Sample("POST", "/v3/ethereum/transaction"), pending.ScopeQueue, MaxTxBody},
	{"POST /v3/blockchain/estimate", "/v3/blockchain/estimate", v3Sample("POST", "/v3/blockchain/estimate"), pending.ScopeQueue, MaxTxBody},
	{"POST /v3/tatum/kms/batch", "/v3/tatum/kms/batch", v3Sample("POST", "/v3/tatum/kms/batch"), pending.ScopeSign, MaxReportBody},
	{"GET /v3/{slug}/transaction/count/{address}", "/v3/ethereum/transaction/count/0x" + strings.Repeat("ab", 20), "", pending.ScopeSign, MaxNoBody},
	// The web3 gateway takes its key in the path: {apiKey} is replaced by the key sent.
	{"POST /v3/{slug}/web3/{apiKey}", "/v3/ethereum/web3/{apiKey}", `{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}`, pending.ScopeSign, maxWeb3Body},
	{"POST /v3/subscription", "/v3/subscription", v3Sample("POST", "/v3/subscription"), pending.ScopeQueue, MaxSubscriptionBody},
	{"GET /v3/subscription", "/v3/subscription", "", pending.ScopeQueue, MaxNoBody},
	{"PUT /v3/subscription", "/v3/subscription", v3Sample("PUT", "/v3/subscription"), pending.ScopeQueue, MaxSubscriptionBody},
	{"DELETE /v3/subscription", "/v3/subscription", "", pending.ScopeQueue, MaxNoBody},
	{"DELETE /v3/subscription/{id}", "/v3/subscription/aaaaaaaaaaaaaaaaaaaaaaaa", "", pending.ScopeQueue, MaxNoBody},
	{"GET /v3/subscription/dead-letters", "/v3/subscription/dead-letters", "", pending.ScopeQueue, MaxNoBody},
	{"POST /v3/subscription/dead-letters/{id}/retry", "/v3/subscription/dead-letters/" + sampleDeliveryID + "/retry", "", pending.ScopeQueue, MaxNoBody},
	// The node gateways take their key in the path too, followed by the node's own path.
	{"GET /v3/tron/node/{apiKey}/{path...}", "/v3/tron/node/{apiKey}/wallet/getnodeinfo", "", pending.ScopeSign, MaxNoBody},
	{"POST /v3/tron/node/{apiKey}/{path...}", "/v3/tron/node/{apiKey}/wallet/getnowblock", "{}", pending.ScopeSign, maxNodeGatewayBody},
	{"GET /v3/egld/node/{apiKey}/{path...}", "/v3/egld/node/{apiKey}/network/config", "", pending.ScopeSign, MaxNoBody},
	{"POST /v3/egld/node/{apiKey}/{path...}", "/v3/egld/node/{apiKey}/transaction/cost", "{}", pending.ScopeSign, maxNodeGatewayBody},
	{"GET /metrics", "/metrics", "", pending.ScopeAdmin, MaxNoBody},
	{"GET /healthz", "/healthz", "", public, MaxNoBody},
	{"GET /readyz", "/readyz", "", public, MaxNoBody},
	{"GET /openapi.json", "/openapi.json", "", public, MaxNoBody},
}

func v3Sample(method, path string) string {
	for _, r := range v3Routes {
		if r.method == method && r.path == path {
			return r.body
		}
	}
	panic("no sample request for " + method + " " + path)
}

func method(name string) string { return strings.Fields(name)[0] }

func TestRouteTableIsTheMap(t *testing.T) {
	e := newEnv(t)
	served := map[string]bool{}
	for _, rt := range e.srv.routes() {
		name := rt.method + " " + rt.path
		served[name] = true
		i := slices.IndexFunc(routeMap, func(m routeContract) bool {
			return m.name == name
		})
		if i < 0 {
			t.Errorf("route %s is missing from the route map of this test: decide its scope and body cap", name)
			continue
		}
		if m := routeMap[i]; m.scope != rt.scope || m.maxBody != rt.maxBody {
			t.Errorf("route %s needs scope %q with a %d-byte body cap; the map says %q and %d", name, rt.scope, rt.maxBody, m.scope, m.maxBody)
		}
	}
	for _, m := range routeMap {
		if !served[m.name] {
			t.Errorf("the map lists %s, which is not served", m.name)
		}
	}
}

// Each route refuses a key lacking its scope (403 naming it) and lets a key
// holding it through, whatever else the key holds.
func TestEachRouteNeedsItsScope(t *testing.T) {
	e := newEnv(t)
	keys := map[pending.Scopes]string{}
	for _, sc := range []pending.Scopes{pending.ScopeQueue, pending.ScopeSign, pending.ScopeAdmin,
		pending.ScopeQueue | pending.ScopeSign, pending.AllScopes &^ pending.ScopeQueue} {
		keys[sc], _ = e.scopedKey("k"+sc.String(), false, sc)
	}
	for _, m := range routeMap {
		if m.scope == public {
			e.do(method(m.name), m.path, "", m.body).wantAdmitted(t, m.name)
			continue
		}
		for sc, key := range keys {
			r := e.do(method(m.name), m.pathFor(key), key, m.body)
			if sc.Has(m.scope) {
				r.wantAdmitted(t, m.name+" with a "+sc.String()+" key")
				continue
			}
			got := r.wantError(t, 403, CodeScopeMissing)
			if !slices.Equal(got.Data, []string{"scope: " + m.scope.String()}) || !strings.Contains(got.Message, m.scope.String()) {
				t.Errorf("%s with a %s key: %+v does not name the missing scope %s", m.name, sc, got, m.scope)
			}
		}
	}
}

// wantAdmitted fails when the request was stopped before its handler: a
// refused key, a missing scope or the rate limit.
func (r resp) wantAdmitted(t *testing.T, what string) {
	t.Helper()
	var e Error
	_ = json.Unmarshal(r.body, &e)
	if r.status == 401 || r.status == 429 || e.ErrorCode == CodeScopeMissing {
		t.Errorf("%s: status %d, body %s", what, r.status, r.body)
	}
}

// Each route takes a body up to its cap and refuses one byte more, whether
// its length is announced or not.
func TestEachRouteHasItsBodyCap(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBody = 64 << 10 })
	for _, rt := range e.srv.routes() {
		key := ""
		if rt.scope != public {
			key = e.keyA
		}
		send := func(n int64, announced bool) resp {
			body := `{"pad":"` + strings.Repeat("x", int(n)-10) + `"}`
			req := httptest.NewRequest(rt.method, strings.NewReplacer("{chain}", "ETH", "{id}", "aaaaaaaaaaaaaaaaaaaaaaaa",
				"{txId}", "0xaaaaaaaaaaaa", "{slug}", "ethereum", "{address}", "0x"+strings.Repeat("ab", 20),
				"{"+pathKeyParam+"}", key, "{path...}", "network/config").Replace(rt.path), strings.NewReader(body))
			if !announced {
				req.Body = readCloser{bytes.NewReader([]byte(body))}
				req.ContentLength = -1
			}
			if key != "" {
				req.Header.Set("X-API-Key", key)
			}
			w := httptest.NewRecorder()
			e.srv.ServeHTTP(w, req)
			return resp{w.Code, w.Body.Bytes(), w.Header()}
		}
		name := rt.method + " " + rt.path
		if r := send(rt.maxBody, true); r.status == 413 {
			t.Errorf("%s refused a body of its cap, %d bytes", name, rt.maxBody)
		}
		e := send(rt.maxBody+1, true).wantError(t, 413, CodeBodyTooLarge)
		if !strings.Contains(e.Message, strconv.FormatInt(rt.maxBody, 10)) {
			t.Errorf("%s: %q does not name the cap %d", name, e.Message, rt.maxBody)
		}
		if rt.maxBody > MaxNoBody {
			// A body of unknown length is cut at the cap as it is read.
			send(rt.maxBody+1, false).wantError(t, 413, CodeBodyTooLarge)
		}
	}
}

// readCloser is a body whose length the server is not told.
type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func TestMetricsNeedAnAdminKey(t *testing.T) {
	e := newEnv(t)
	const name = "tenant-name-that-must-not-leak"
	e.scopedKey(name, false, pending.ScopeQueue)
	appKey, _ := e.scopedKey("app", false, pending.ScopeQueue|pending.ScopeSign)
	adminKey, _ := e.scopedKey("ops", false, pending.ScopeAdmin)
	for _, r := range []resp{
		e.do("GET", "/metrics", "", nil),
		e.do("GET", "/metrics", "custos_nope", nil),
		e.do("GET", "/metrics", appKey, nil),
	} {
		if r.status != 401 && r.status != 403 {
			t.Fatalf("/metrics without an admin key: status %d", r.status)
		}
		if bytes.Contains(r.body, []byte(name)) || bytes.Contains(r.body, []byte("custos_api_key_credits")) {
			t.Fatalf("/metrics without an admin key shows the keys: %s", r.body)
		}
	}
	e.do("GET", "/metrics", appKey, nil).wantError(t, 403, CodeScopeMissing)
	r := e.do("GET", "/metrics", adminKey, nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte(`name="`+name+`"`)) {
		t.Fatalf("/metrics with an admin key: %d\n%s", r.status, r.body)
	}
	// The separate listener's handler serves them without a key.
	w := httptest.NewRecorder()
	e.srv.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `name="`+name+`"`) {
		t.Fatalf("MetricsHandler: %d", w.Code)
	}
}

// A key over its rate gets 429 with Retry-After on every route, another key
// is not slowed, and the key recovers once its bucket refills.
func TestRateLimitPerKey(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RateLimit, c.RateBurst = 0.5, 3 })
	if e.srv.limiter == nil || e.srv.limiter.Rate() != 0.5 || e.srv.limiter.Burst() != 3 {
		t.Fatalf("Config.RateLimit is not applied: %+v", e.srv.limiter)
	}
	now := time.Unix(1_700_000_000, 0)
	e.srv.limiter = ratelimit.New(0.5, 3, 0, func() time.Time { return now })
	for range 3 {
		e.do("GET", "/v3/kms/pending/ETH", e.keyA, nil).want(t, 200, nil)
	}
	for _, m := range routeMap {
		if m.scope == public {
			e.do(method(m.name), m.path, "", m.body).wantAdmitted(t, m.name+" (public)")
			continue
		}
		r := e.do(method(m.name), m.pathFor(e.keyA), e.keyA, m.body)
		r.wantError(t, 429, CodeRateLimited)
		// One request comes back every 2 s.
		if got := r.header.Get("Retry-After"); got != "2" {
			t.Fatalf("%s: Retry-After %q, want 2", m.name, got)
		}
	}
	for range 3 {
		e.do("GET", "/v3/kms/pending/ETH", e.keyB, nil).want(t, 200, nil)
	}
	now = now.Add(time.Second)
	r := e.do("GET", "/v3/kms/pending/ETH", e.keyA, nil)
	r.wantError(t, 429, CodeRateLimited)
	if got := r.header.Get("Retry-After"); got != "1" {
		t.Fatalf("Retry-After %q after a second, want 1", got)
	}
	now = now.Add(time.Second)
	e.do("GET", "/v3/kms/pending/ETH", e.keyA, nil).want(t, 200, nil)
	e.do("GET", "/v3/kms/pending/ETH", e.keyA, nil).wantError(t, 429, CodeRateLimited)
}

// A key hammering the server past its limit leaves another key's requests
// as fast as they were.
func TestRateLimitedKeyDoesNotSlowAnother(t *testing.T) {
	// The other keys' 10 requests each fit in their own bursts.
	e := newEnv(t, func(c *Config) { c.RateLimit, c.RateBurst = 1, 30 })
	stop, limited, done := make(chan struct{}), make(chan struct{}), make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				done <- n
				return
			default:
			}
			req := httptest.NewRequest("GET", "/v3/kms/pending/ETH", nil)
			req.Header.Set("X-API-Key", e.keyA)
			w := httptest.NewRecorder()
			e.srv.ServeHTTP(w, req)
			if w.Code == 429 {
				if n == 0 {
					close(limited)
				}
				n++
			}
		}
	}()
	<-limited
	start := time.Now()
	for i := range 20 {
		if i%2 == 0 {
			e.do("GET", "/v3/kms/pending/ETH", e.keyB, nil).want(t, 200, nil)
		} else {
			e.do("GET", "/v3/kms/pending/ETH", e.keyTest, nil).want(t, 200, nil)
		}
	}
	took := time.Since(start)
	close(stop)
	if n := <-done; n < 2 {
		t.Fatalf("the hammering key was limited %d times while the others ran", n)
	}
	// Generous: the point is that the others are not made to wait for tokens.
	if took > 5*time.Second {
		t.Fatalf("20 requests of other keys took %v", took)
	}
}

// /openapi.json shows each route's scope, from the route table.
func TestOpenAPIShowsEachScope(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		Paths map[string]map[string]struct {
			Scope       string `json:"x-custos-scope"`
			Description string `json:"description"`
		} `json:"paths"`
	}
	e.do("GET", "/openapi.json", "", nil).want(t, 200, &doc)
	for _, m := range routeMap {
		path := docPath(strings.Fields(m.name)[1])
		o := doc.Paths[path][strings.ToLower(method(m.name))]
		want := m.scope.String()
		if o.Scope != want || (want != "" && !strings.Contains(o.Description, "the "+want+" scope")) {
			t.Errorf("%s: x-custos-scope %q, description %q; want %q", m.name, o.Scope, o.Description, want)
		}
	}
}
