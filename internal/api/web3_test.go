package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/custoskms/custos/internal/broadcast"
)

// recorder stands between the gateway and the dev chain and keeps the
// JSON-RPC methods that reached the node.
type recorder struct {
	mu      sync.Mutex
	methods []string
}

func (rc *recorder) seen() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.methods...)
}

func (rc *recorder) wrap(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var calls []struct{ Method string }
		if err := json.Unmarshal(body, &calls); err != nil {
			var one struct{ Method string }
			_ = json.Unmarshal(body, &one)
			calls = append(calls, one)
		}
		rc.mu.Lock()
		for _, c := range calls {
			rc.methods = append(rc.methods, c.Method)
		}
		rc.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// web3Env is fillEnv with the dev chain behind a recorder as the ETH
// testnet node, and the server's log kept.
func web3Env(t *testing.T) (*env, *recorder, *bytes.Buffer) {
	t.Helper()
	e, dc, _ := fillEnv(t)
	rc := &recorder{}
	node, err := broadcast.DialEVM(rc.wrap(t, dc.URL()))
	if err != nil {
		t.Fatal(err)
	}
	e.nodes.Set("ETH", true, node)
	// e.do serves each request on the test's goroutine: the buffer needs no lock.
	logs := &bytes.Buffer{}
	e.srv.log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return e, rc, logs
}

// rpc posts body to the gateway with key in the path and no X-API-Key.
func (e *env) rpc(slug, key, body string) resp {
	e.t.Helper()
	return e.do("POST", "/v3/"+slug+"/web3/"+key, "", body)
}

type rpcAnswer struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *rpcError       `json:"error"`
}

func TestWeb3RelaysReads(t *testing.T) {
	e, rc, logs := web3Env(t)
	var a rpcAnswer
	e.rpc("ethereum", e.keyTest, `{"jsonrpc":"2.0","id":7,"method":"eth_chainId","params":[]}`).want(t, 200, &a)
	if a.JSONRPC != "2.0" || string(a.ID) != "7" || string(a.Result) != `"0x539"` || a.Error != nil {
		t.Fatalf("eth_chainId: %+v", a)
	}
	// Tatum's SDK estimates gas before signing.
	a = rpcAnswer{}
	e.rpc("ethereum", e.keyTest, `{"jsonrpc":"2.0","id":"g","method":"eth_estimateGas","params":[{"from":"`+fillFrom+`","to":"`+fillRecipient+`","value":"0x1"}]}`).want(t, 200, &a)
	if string(a.ID) != `"g"` || string(a.Result) != `"0x5208"` {
		t.Fatalf("eth_estimateGas: %+v", a)
	}
	// The node's own errors are relayed.
	a = rpcAnswer{}
	e.rpc("ethereum", e.keyTest, `{"jsonrpc":"2.0","id":1,"method":"eth_estimateGas","params":[{"from":"`+fillRecipient+`","to":"`+fillFrom+`","value":"0x1000"}]}`).want(t, 200, &a)
	if a.Error == nil || a.Error.Code == 0 || !strings.Contains(a.Error.Message, "insufficient funds") || a.Result != nil {
		t.Fatalf("a node's refusal: %+v", a)
	}
	// A batch: answers in its order; what is not relayed is refused without the node.
	var batch []rpcAnswer
	e.rpc("ethereum", e.keyTest, `[{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"},
		{"jsonrpc":"2.0","id":2,"method":"eth_sendRawTransaction","params":["0x02f8"]},
		{"jsonrpc":"2.0","id":3,"method":"eth_getTransactionCount","params":["`+fillFrom+`","pending"]},
		{"jsonrpc":"2.0","id":4,"method":"personal_sign","params":[]},
		{"id":5,"method":"eth_chainId"},
		{"jsonrpc":"2.0","method":"eth_chainId"},
		{"jsonrpc":"2.0","id":7,"method":"eth_getBlockByNumber","params":["0xffffff",false]}]`).want(t, 200, &batch)
	if len(batch) != 7 {
		t.Fatalf("%d answers to 7 calls: %+v", len(batch), batch)
	}
	for i, want := range []struct {
		id, result string
		code       int
	}{{"1", "", 0}, {"2", "", rpcMethodNotFound}, {"3", `"0x0"`, 0}, {"4", "", rpcMethodNotFound},
		{"5", "", rpcInvalidRequest}, {"null", "", rpcInvalidRequest}, {"7", "null", 0}} {
		got := batch[i]
		switch {
		case string(got.ID) != want.id:
			t.Errorf("answer %d has id %s, want %s", i, got.ID, want.id)
		case want.code != 0 && (got.Error == nil || got.Error.Code != want.code || got.Result != nil):
			t.Errorf("answer %d: %+v, want error %d", i, got, want.code)
		case want.code == 0 && (got.Error != nil || got.Result == nil || (want.result != "" && string(got.Result) != want.result)):
			t.Errorf("answer %d: %+v %s %+v, want result %s", i, got, got.Result, got.Error, want.result)
		}
	}
	if !strings.Contains(batch[1].Error.Message, "POST /v3/ethereum/broadcast") {
		t.Errorf("eth_sendRawTransaction refusal: %q", batch[1].Error.Message)
	}
	want := []string{"eth_chainId", "eth_estimateGas", "eth_estimateGas", "eth_blockNumber", "eth_getTransactionCount", "eth_getBlockByNumber"}
	if got := rc.seen(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("the node was asked %v, want %v", got, want)
	}
	if c := e.credits(keyIDOf(t, e, e.keyTest)); c != 6 {
		t.Fatalf("credits %d, want 1 per relayed call (6)", c)
	}
	// Not a request at all: one error answer, nothing sent.
	for body, code := range map[string]int{
		`{"jsonrpc":`: rpcParseError,
		`[]`:          rpcInvalidRequest,
		`[` + strings.Repeat(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},`, maxWeb3Batch) + `{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}]`: rpcInvalidRequest,
	} {
		a = rpcAnswer{}
		e.rpc("ethereum", e.keyTest, body).want(t, 200, &a)
		if a.Error == nil || a.Error.Code != code || string(a.ID) != "null" {
			t.Errorf("%.40s: %+v, want error %d", body, a, code)
		}
	}
	if len(rc.seen()) != len(want) {
		t.Fatalf("refused requests reached the node: %v", rc.seen())
	}
	if strings.Contains(logs.String(), e.keyTest) {
		t.Fatalf("the key is in the log:\n%s", logs)
	}
}

// The key in the path authenticates as X-API-Key does, and never shows in
// a log line, whatever the answer.
func TestWeb3KeyInPath(t *testing.T) {
	e, rc, logs := web3Env(t)
	call := `{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}`
	revoked, k := e.newKey("old", true)
	if err := e.store.RevokeKey(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"custos_nope", revoked, strings.Repeat("x", 300)} {
		e.rpc("ethereum", key, call).wantError(t, 401, CodeUnauthorized)
	}
	// A valid X-API-Key does not stand in for a wrong key in the path.
	e.do("POST", "/v3/ethereum/web3/custos_nope", e.keyTest, call).wantError(t, 401, CodeUnauthorized)
	// A mainnet key reads the mainnet node, which is not configured.
	e.rpc("ethereum", e.keyA, call).wantError(t, 403, CodeNoNode)
	e.rpc("bitcoin", e.keyTest, call).wantError(t, 400, CodeValidation)
	e.rpc("ethereum", e.keyTest, `{"pad":"`+strings.Repeat("x", maxWeb3Body)+`"}`).wantError(t, 413, CodeBodyTooLarge)
	if len(rc.seen()) != 0 {
		t.Fatalf("the node was asked %v", rc.seen())
	}
	e.rpc("ethereum", e.keyTest, call).want(t, 200, nil)
	if !strings.Contains(logs.String(), `route="POST /v3/{slug}/web3/{apiKey}"`) {
		t.Fatalf("requests were not logged:\n%s", logs)
	}
	for _, key := range []string{e.keyTest, e.keyA, revoked, "custos_nope"} {
		if strings.Contains(logs.String(), key) {
			t.Fatalf("key %s is in the log:\n%s", key, logs)
		}
	}
	// A failure the server logs with the request's path masks the key.
	logs.Reset()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/{slug}/web3/{apiKey}", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, e.srv.log, r, io.ErrUnexpectedEOF)
	})
	mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/v3/ethereum/web3/"+e.keyTest, nil))
	if l := logs.String(); strings.Contains(l, e.keyTest) || !strings.Contains(l, "/v3/ethereum/web3/xxxxx") {
		t.Fatalf("the failure's log line: %s", l)
	}
}

// The node's answer is untrusted: anything but JSON-RPC answering exactly
// the calls sent is a node failure (502), never relayed.
func TestWeb3NodeAnswersChecked(t *testing.T) {
	e := newEnv(t)
	answer := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	node, err := broadcast.DialEVM(srv.URL + "/?apikey=node-secret-123")
	if err != nil {
		t.Fatal(err)
	}
	e.nodes.Set("BSC", false, node)
	one := `{"jsonrpc":"2.0","id":"x","method":"eth_chainId"}`
	two := `[{"jsonrpc":"2.0","id":"a","method":"eth_chainId"},{"jsonrpc":"2.0","id":"b","method":"eth_blockNumber"}]`
	for _, bad := range []string{
		`not json`, `{"jsonrpc":"2.0","id":5,"result":"0x1"}`, `{"jsonrpc":"2.0","id":0,"result":"0x1","error":{"code":1,"message":"m"}}`,
		`{"jsonrpc":"2.0","id":0}`, `{"jsonrpc":"2.0","id":0,"error":{"message":"no code"}}`, `[1]`,
		`{"jsonrpc":"2.0","id":0,"result":"` + strings.Repeat("0", broadcast.MaxRelayAnswer) + `"}`,
	} {
		answer = bad
		e.rpc("bsc", e.keyA, one).wantError(t, 502, CodeNodeUnavailable)
	}
	answer = `[{"jsonrpc":"2.0","id":0,"result":"0x38"},{"jsonrpc":"2.0","id":0,"result":"0x1"}]`
	e.rpc("bsc", e.keyA, two).wantError(t, 502, CodeNodeUnavailable)

	// A call the node leaves unanswered gets an error; one refusing the whole
	// request answers each call; a node's message loses the URL's secrets.
	var got []rpcAnswer
	answer = `[{"jsonrpc":"2.0","id":1,"result":"0x10"}]`
	e.rpc("bsc", e.keyA, two).want(t, 200, &got)
	if len(got) != 2 || got[0].Error == nil || got[0].Error.Code != rpcInternalError || string(got[1].Result) != `"0x10"` || string(got[1].ID) != `"b"` {
		t.Fatalf("partial answer relayed as %+v", got)
	}
	got = nil
	answer = `{"jsonrpc":"2.0","id":null,"error":{"code":-32005,"message":"batch too large for key node-secret-123 ` + strings.Repeat("é", 1000) + `"}}`
	e.rpc("bsc", e.keyA, two).want(t, 200, &got)
	for _, a := range got {
		if a.Error == nil || a.Error.Code != -32005 || strings.Contains(a.Error.Message, "node-secret-123") || len(a.Error.Message) > maxRPCErrorMessage+3 {
			t.Fatalf("whole-request refusal relayed as %+v", a)
		}
	}
}
