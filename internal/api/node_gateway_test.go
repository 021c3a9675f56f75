package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/custoskms/custos/internal/broadcast"
)

// fakeREST is a REST node that answers every request with status and
// answer, and keeps what reached it.
type fakeREST struct {
	mu     sync.Mutex
	status int
	answer string
	seen   []string // "METHOD path?query body"
}

func (f *fakeREST) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, strings.TrimSpace(r.Method+" "+r.URL.RequestURI()+" "+string(body)))
	w.WriteHeader(f.status)
	_, _ = io.WriteString(w, f.answer)
}

func (f *fakeREST) set(status int, answer string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.answer, f.seen = status, answer, nil
}

func (f *fakeREST) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

// nodeGatewayEnv has fake TRON and EGLD testnet nodes (their URLs carry a
// secret in the query) and keeps the server's log.
func nodeGatewayEnv(t *testing.T) (*env, *fakeREST, *fakeREST, *bytes.Buffer) {
	t.Helper()
	e := newEnv(t)
	tronNode, egldNode := &fakeREST{status: 200, answer: "{}"}, &fakeREST{status: 200, answer: "{}"}
	for code, f := range map[string]*fakeREST{"TRON": tronNode, "EGLD": egldNode} {
		srv := httptest.NewServer(f)
		t.Cleanup(srv.Close)
		url := srv.URL + "/base/?apikey=node-secret-123"
		var c broadcast.Client
		var err error
		if code == "TRON" {
			c, err = broadcast.DialTron(url)
		} else {
			c, err = broadcast.DialMultiversX(url)
		}
		if err != nil {
			t.Fatal(err)
		}
		e.nodes.Set(code, true, c)
	}
	logs := &bytes.Buffer{}
	e.srv.log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return e, tronNode, egldNode, logs
}

// The reads Tatum's signers make reach the node with their method, path and
// body (the node URL's query kept, the client's dropped), and the node's
// answer comes back as it is, a 4xx with its status; anything else is 404
// and never reaches the node.
func TestNodeGatewayRelaysReads(t *testing.T) {
	e, tronNode, egldNode, logs := nodeGatewayEnv(t)
	k := e.keyTest
	const addr = "erd1gd65raxjnted9uwz4ftg4vtgg2cxkxpql3j5f9zx34zuhh67rdtq8drf07"
	for _, c := range []struct {
		node         *fakeREST
		method, path string
		body         string
		status       int
		answer, seen string
	}{
		{tronNode, "POST", "/v3/tron/node/" + k + "/wallet/getnodeinfo", "{}", 200, `{"configNodeInfo":{"codeVersion":"4.7.4"}}`,
			"POST /base/wallet/getnodeinfo?apikey=node-secret-123 {}"},
		{tronNode, "POST", "/v3/tron/node/" + k + "/wallet/getnodeinfo", "", 200, `{}`,
			"POST /base/wallet/getnodeinfo?apikey=node-secret-123 {}"},
		{tronNode, "GET", "/v3/tron/node/" + k + "/wallet/getnowblock?visible=true", "", 200, `{"blockID":"00"}`,
			"GET /base/wallet/getnowblock?apikey=node-secret-123"},
		{egldNode, "GET", "/v3/egld/node/" + k + "/address/" + addr + "/nonce", "", 200, `{"data":{"nonce":7},"code":"successful"}`,
			"GET /base/address/" + addr + "/nonce?apikey=node-secret-123"},
		{egldNode, "POST", "/v3/egld/node/" + k + "/transaction/cost", `{"nonce":7,"value":"1"}`, 200, `{"data":{"txGasUnits":50000}}`,
			`POST /base/transaction/cost?apikey=node-secret-123 {"nonce":7,"value":"1"}`},
		{tronNode, "GET", "/v3/tron/node/" + k + "/wallet/getaccount", "", 400, `{"Error":"class java.lang.NullPointerException"}`,
			"GET /base/wallet/getaccount?apikey=node-secret-123"},
		{egldNode, "GET", "/v3/egld/node/" + k + "/address/erd1bad", "", 400, `{"data":null,"error":"cannot decode address","code":"bad_request"}`,
			"GET /base/address/erd1bad?apikey=node-secret-123"},
	} {
		c.node.set(c.status, c.answer)
		r := e.do(c.method, c.path, "", c.body)
		if r.status != c.status || strings.TrimSpace(string(r.body)) != c.answer || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %s, the node answered %d %s", c.method, c.path, r.status, r.body, c.status, c.answer)
		}
		if got := c.node.requests(); len(got) != 1 || got[0] != c.seen {
			t.Errorf("%s %s: the node saw %q, want %q", c.method, c.path, got, c.seen)
		}
	}

	tronNode.set(200, "{}")
	egldNode.set(200, "{}")
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v3/tron/node/" + k + "/wallet/broadcasttransaction", `{"txID":"00"}`},
		{"POST", "/v3/tron/node/" + k + "/wallet/broadcasthex", `{}`},
		{"POST", "/v3/tron/node/" + k + "/wallet/createtransaction", `{}`},
		{"POST", "/v3/egld/node/" + k + "/transaction/send", `{}`},
		{"POST", "/v3/egld/node/" + k + "/transaction/send-multiple", `[]`},
		{"POST", "/v3/egld/node/" + k + "/network/config", `{}`},
		{"GET", "/v3/egld/node/" + k + "/network/config/extra", ""},
		{"GET", "/v3/egld/node/" + k + "/address/a%2Fb/nonce", ""},
		{"GET", "/v3/egld/node/" + k + "/address/" + strings.Repeat("a", 129), ""},
		{"GET", "/v3/egld/node/" + k + "/", ""},
	} {
		e.do(c.method, c.path, "", c.body).wantError(t, 404, CodeRouteNotFound)
	}
	e.do("POST", "/v3/egld/node/"+k+"/transaction/cost", "", "not json").wantError(t, 400, CodeValidation)
	e.do("POST", "/v3/tron/node/"+k+"/wallet/getaccount", "", `{"address":`).wantError(t, 400, CodeValidation)
	e.do("POST", "/v3/egld/node/"+k+"/transaction/cost", "", `{"pad":"`+strings.Repeat("x", maxNodeGatewayBody)+`"}`).wantError(t, 413, CodeBodyTooLarge)
	// The key in the path authenticates; the header does not stand in for it.
	for _, m := range []string{"GET", "POST"} {
		for _, p := range []string{"/v3/egld/node/custos_nope/network/config", "/v3/tron/node/custos_nope/wallet/getnodeinfo"} {
			e.do(m, p, k, "{}").wantError(t, 401, CodeUnauthorized)
		}
	}
	// A mainnet key reads the mainnet node, which is not configured.
	e.do("GET", "/v3/egld/node/"+e.keyA+"/network/config", "", nil).wantError(t, 403, CodeNoNode)
	if got := append(tronNode.requests(), egldNode.requests()...); len(got) != 0 {
		t.Fatalf("the nodes were asked %q", got)
	}
	if !strings.Contains(logs.String(), `route="GET /v3/egld/node/{apiKey}/{path...}"`) {
		t.Fatalf("requests were not logged:\n%s", logs)
	}
	for _, key := range []string{e.keyTest, e.keyA} {
		if strings.Contains(logs.String(), key) {
			t.Fatalf("key %s is in the log:\n%s", key, logs)
		}
	}
}

// The node's answer is untrusted: anything but JSON within the relay cap,
// with a 2xx or 4xx status other than a refusal of the server's
// credentials or throttling, is a node failure (502) and is not relayed;
// the node URL's secret never reaches the client.
func TestNodeGatewayNodeAnswersChecked(t *testing.T) {
	e, tronNode, egldNode, _ := nodeGatewayEnv(t)
	for _, c := range []struct {
		node         *fakeREST
		method, path string
	}{
		{tronNode, "POST", "/v3/tron/node/" + e.keyTest + "/wallet/getnowblock"},
		{tronNode, "GET", "/v3/tron/node/" + e.keyTest + "/wallet/getnowblock"},
		{egldNode, "GET", "/v3/egld/node/" + e.keyTest + "/network/config"},
		{egldNode, "POST", "/v3/egld/node/" + e.keyTest + "/transaction/cost"},
	} {
		checkNodeAnswers(t, e, c.node, c.method, c.path)
	}
}

// checkNodeAnswers has node answer garbage, and one answer naming the node
// URL's secret, to method path.
func checkNodeAnswers(t *testing.T, e *env, node *fakeREST, method, path string) {
	t.Helper()
	for _, bad := range []struct {
		status int
		answer string
	}{
		{200, "not json"}, {200, ""}, {200, `{"a":1`}, {500, `{"Error":"internal"}`}, {401, `{}`}, {403, `{}`}, {429, `{}`},
		{302, `{}`}, {200, `{"a":"` + strings.Repeat("0", broadcast.MaxRelayAnswer) + `"}`},
	} {
		node.set(bad.status, bad.answer)
		r := e.do(method, path, "", "{}")
		r.wantError(t, 502, CodeNodeUnavailable)
		if bytes.Contains(r.body, []byte("node-secret-123")) {
			t.Errorf("the node URL's secret reached the client: %s", r.body)
		}
	}
	node.set(200, `{"Error":"no block for key node-secret-123"}`)
	if r := e.do(method, path, "", "{}"); r.status != 200 || bytes.Contains(r.body, []byte("node-secret-123")) || !json.Valid(r.body) {
		t.Errorf("answer naming the node's secret relayed as %d %s", r.status, r.body)
	}
}
