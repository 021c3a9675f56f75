package api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/sqlite"
)

// seen records every (route, status) any test produced; TestMain checks it
// against the OpenAPI document in both directions.
var (
	seenMu sync.Mutex
	seen   = map[string]map[int]bool{}
)

func TestMain(m *testing.M) {
	flag.Parse()
	observe = func(route string, status int) {
		route = docPath(route) // as the OpenAPI document names it
		seenMu.Lock()
		defer seenMu.Unlock()
		if seen[route] == nil {
			seen[route] = map[int]bool{}
		}
		seen[route][status] = true
	}
	code := m.Run()
	if sqliteBenchDir != "" {
		os.RemoveAll(sqliteBenchDir)
	}
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.bench").Value.String() == "" {
		if problems := checkStatusCoverage(); len(problems) > 0 {
			fmt.Fprintln(os.Stderr, "status coverage against the OpenAPI document:\n  "+strings.Join(problems, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

// checkStatusCoverage: every status a test saw is documented, and every
// documented status of every route was seen by some test.
func checkStatusCoverage() []string {
	doc := documentedStatuses()
	var problems []string
	for route, codes := range seen {
		for c := range codes {
			if !doc[route][c] {
				problems = append(problems, fmt.Sprintf("%s answered %d, which the OpenAPI document does not list", route, c))
			}
		}
	}
	for route, codes := range doc {
		for c := range codes {
			if !seen[route][c] {
				problems = append(problems, fmt.Sprintf("%s documents %d but no test produced it", route, c))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

func documentedStatuses() map[string]map[int]bool {
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	b, _ := json.Marshal(New(Config{}).openapiDoc)
	if err := json.Unmarshal(b, &doc); err != nil {
		panic(err)
	}
	out := map[string]map[int]bool{}
	for path, ops := range doc.Paths {
		for method, o := range ops {
			name := strings.ToUpper(method) + " " + path
			out[name] = map[int]bool{}
			for code := range o.Responses {
				var c int
				fmt.Sscan(code, &c)
				out[name][c] = true
			}
		}
	}
	return out
}

// plainChain hides a chain's optional capabilities.
type plainChain struct{ chain.Chain }

// env is a server over a real SQLite file with three API keys.
type env struct {
	t       testing.TB
	srv     *Server
	store   *sqlite.Store
	nodes   *broadcast.Nodes
	keyA    string // mainnet, tenant A
	keyB    string // mainnet, tenant B
	keyTest string // testnet, tenant C
	idA     string // key id of A
}

func newEnv(t testing.TB, opts ...func(*Config)) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pending.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, store: st, nodes: broadcast.NewNodes()}
	cfg := Config{Store: st, Nodes: e.nodes, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	e.srv = New(cfg)
	// The chains' own codecs are tested in their packages; here every chain
	// is codec-less unless a test installs one, so fixtures may be any string.
	e.srv.lookupChain = func(code string) (chain.Chain, error) {
		c, err := chains.Lookup(code)
		if err != nil {
			return nil, err
		}
		return plainChain{c}, nil
	}
	var k pending.APIKey
	e.keyA, k = e.newKey("a", false)
	e.idA = k.ID
	e.keyB, _ = e.newKey("b", false)
	e.keyTest, _ = e.newKey("t", true)
	return e
}

func (e *env) newKey(name string, testnet bool) (string, pending.APIKey) {
	return e.scopedKey(name, testnet, pending.AllScopes)
}

func (e *env) scopedKey(name string, testnet bool, scopes pending.Scopes) (string, pending.APIKey) {
	secret, hash, err := NewAPIKey()
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := e.store.CreateKey(context.Background(), name, testnet, scopes, hash)
	if err != nil {
		e.t.Fatal(err)
	}
	return secret, k
}

type resp struct {
	status int
	body   []byte
	header http.Header
}

func (e *env) do(method, path, key string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	return resp{w.Code, w.Body.Bytes(), w.Header()}
}

// wantError asserts the status and that the body is the API's error body with code.
func (r resp) wantError(t testing.TB, status int, code string) Error {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	var e Error
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("body %s is not the error body: %v", r.body, err)
	}
	if e.ErrorCode != code || e.StatusCode != status || e.Message == "" {
		t.Fatalf("error body %+v, want code %s status %d", e, code, status)
	}
	if code == CodeValidation && len(e.Data) == 0 {
		t.Fatalf("validation error without data: %s", r.body)
	}
	return e
}

func (r resp) want(t testing.TB, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("body %s: %v", r.body, err)
		}
	}
}

const (
	sigA = "0b4f3c8e-5a6d-4f1e-9c2b-7d8e9f0a1b2c"
	sigB = "1c5a4d9f-6b7e-4a2f-8d3c-8e9f0a1b2c3d"
	sigC = "2d6b5eaf-7c8f-4b3a-9e4d-9f0a1b2c3d4e"
)

// create queues a transaction for key and returns its id.
func (e *env) create(key, chain string, hashes ...string) string {
	e.t.Helper()
	var out struct{ ID string }
	e.do("POST", "/v3/kms", key, map[string]any{"chain": chain, "serializedTransaction": `{"to":"x"}`, "hashes": hashes}).want(e.t, 200, &out)
	if len(out.ID) != 24 {
		e.t.Fatalf("id %q", out.ID)
	}
	return out.ID
}

func (e *env) credits(id string) int64 {
	keys, err := e.store.Keys(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == id {
			return k.Credits
		}
	}
	e.t.Fatalf("no key %s", id)
	return 0
}

// v3Routes are sample requests for every /v3 route.
var v3Routes = []struct{ method, path, body string }{
	{"POST", "/v3/kms", `{"chain":"ETH","serializedTransaction":"x","hashes":["` + sigA + `"]}`},
	{"GET", "/v3/kms/pending/ETH", ""},
	{"POST", "/v3/kms/pending/ETH", `{"signatureIds":["` + sigA + `"]}`},
	{"POST", "/v3/kms/lease", `{"signerId":"d1","ids":["aaaaaaaaaaaaaaaaaaaaaaaa"]}`},
	{"PUT", "/v3/kms/aaaaaaaaaaaaaaaaaaaaaaaa/0xaaaaaaaaaaaa", ""},
	{"GET", "/v3/kms/aaaaaaaaaaaaaaaaaaaaaaaa", ""},
	{"DELETE", "/v3/kms/aaaaaaaaaaaaaaaaaaaaaaaa", ""},
	{"POST", "/v3/kms/speedup/aaaaaaaaaaaaaaaaaaaaaaaa", ""},
	{"POST", "/v3/kms/cancel/aaaaaaaaaaaaaaaaaaaaaaaa", `{"gasPrice":"1000"}`},
	{"POST", "/v3/ethereum/broadcast", `{"txData":"0x00","signatureId":"aaaaaaaaaaaaaaaaaaaaaaaa"}`},
	{"POST", "/v3/ethereum/transaction", `{"to":"0xb157e208264ff9edebbcb1d36e66d156df8afa6c","amount":"1","currency":"ETH","signatureId":"` + sigA + `"}`},
	{"POST", "/v3/blockchain/estimate", `{"chain":"ETH","type":"TRANSFER","sender":"0xb157e208264ff9edebbcb1d36e66d156df8afa6c","recipient":"0xb157e208264ff9edebbcb1d36e66d156df8afa6c","amount":"1"}`},
	{"POST", "/v3/tatum/kms/batch", `{"errors":[{"signatureId":"aaaaaaaaaaaaaaaaaaaaaaaa","error":"x"}]}`},
	{"GET", "/v3/ethereum/transaction/count/0xb157e208264ff9edebbcb1d36e66d156df8afa6c", ""},
	{"POST", "/v3/subscription", `{"type":"KMS_COMPLETED_TX","attr":{"url":"https://8.8.8.8/hook"}}`},
	{"GET", "/v3/subscription", ""},
	{"PUT", "/v3/subscription", `{"hmacSecret":"s3cret"}`},
	{"DELETE", "/v3/subscription", ""},
	{"DELETE", "/v3/subscription/aaaaaaaaaaaaaaaaaaaaaaaa", ""},
	{"GET", "/v3/subscription/dead-letters", ""},
	{"POST", "/v3/subscription/dead-letters/" + sampleDeliveryID + "/retry", ""},
}

// sampleDeliveryID has a delivery id's shape.
const sampleDeliveryID = "aaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbbbbbbbbbb"

func TestEveryV3RouteNeedsAKey(t *testing.T) {
	e := newEnv(t)
	revoked, k := e.newKey("old", false)
	if err := e.store.RevokeKey(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	for _, rt := range v3Routes {
		for _, key := range []string{"", "custos_nope", revoked, strings.Repeat("x", 300)} {
			e.do(rt.method, rt.path, key, rt.body).wantError(t, 401, CodeUnauthorized)
		}
	}
}

func TestUnroutedAnswersTheErrorBody(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/nope", "", nil).wantError(t, 404, CodeRouteNotFound)
	r := e.do("PATCH", "/v3/kms/aaaaaaaaaaaaaaaaaaaaaaaa", e.keyA, nil)
	r.wantError(t, 405, CodeMethodNotAllowed)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "DELETE") {
		t.Fatalf("Allow = %q", allow)
	}
}

func TestAPIKeyShape(t *testing.T) {
	a, ha, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := NewAPIKey()
	if a == b || !strings.HasPrefix(a, KeyPrefix) || len(a) != len(KeyPrefix)+43 || HashKey(a) != ha {
		t.Fatalf("keys %q %q", a, b)
	}
}
