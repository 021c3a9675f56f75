package broadcast

// No Solana node can run here: these tests stand up a local HTTP server that
// implements the documented JSON-RPC method sendTransaction (and its error
// shape) and checks the exact request the client sends.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/vectors"
)

// signedVector returns expected.signed and expected.txId of a chain's first signing vector.
func signedVector(t testing.TB, code string) (signed, txID string) {
	t.Helper()
	rows := vectors.SigningFor(code)
	if len(rows) == 0 {
		t.Fatalf("no %s vectors", code)
	}
	var e struct {
		Signed string `json:"signed"`
		TxID   string `json:"txId"`
	}
	if err := json.Unmarshal(rows[0].Expected, &e); err != nil {
		t.Fatal(err)
	}
	return e.Signed, e.TxID
}

// nodeServer serves handler and fails the test on a request that is not a
// POST to path with the content type.
func nodeServer(t *testing.T, path, contentType string, handler func(body []byte) (int, string)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != path || r.Header.Get("Content-Type") != contentType {
			t.Errorf("request %s %s (%s), want POST %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"), path, contentType)
		}
		body, _ := io.ReadAll(r.Body)
		status, answer := handler(body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSolanaBroadcast(t *testing.T) {
	signed, txID := signedVector(t, "SOL")
	answer := `{"jsonrpc":"2.0","result":"` + txID + `","id":1}`
	srv := nodeServer(t, "/", "application/json", func(body []byte) (int, string) {
		var req struct {
			JSONRPC string            `json:"jsonrpc"`
			Method  string            `json:"method"`
			Params  []json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal(body, &req); err != nil || req.JSONRPC != "2.0" || req.Method != "sendTransaction" || len(req.Params) != 2 ||
			string(req.Params[0]) != `"`+signed+`"` || string(req.Params[1]) != `{"encoding":"base64"}` {
			t.Errorf("request body %s", body)
		}
		return 200, answer
	})
	c, err := Dial([]NodeSpec{{Chain: "SOL", URL: srv.URL}}, testDialer)
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := c.Client("SOL", false)
	ctx := context.Background()
	if got, err := cl.Broadcast(ctx, signed); err != nil || got != txID {
		t.Fatalf("Broadcast = %s, %v", got, err)
	}
	// Already processed: the same id, no failure.
	answer = `{"jsonrpc":"2.0","error":{"code":-32002,"message":"Transaction simulation failed: This transaction has already been processed","data":{}},"id":1}`
	if got, err := cl.Broadcast(ctx, signed); err != nil || got != txID {
		t.Errorf("already processed: %s, %v", got, err)
	}
	answer = `{"jsonrpc":"2.0","error":{"code":-32002,"message":"Transaction simulation failed: Blockhash not found"},"id":1}`
	if _, err := cl.Broadcast(ctx, signed); !errors.Is(err, ErrRejected) {
		t.Errorf("blockhash not found: %v", err)
	}
	answer = `{"jsonrpc":"2.0","result":"1111111111111111111111111111111111111111111111111111111111111111","id":1}`
	if _, err := cl.Broadcast(ctx, signed); !errors.Is(err, ErrUnavailable) {
		t.Errorf("other signature answered: %v", err)
	}
	answer = `<html>`
	if _, err := cl.Broadcast(ctx, signed); !errors.Is(err, ErrUnavailable) {
		t.Errorf("garbage answer: %v", err)
	}
	for _, bad := range []string{"", "AA==", "not base64"} {
		if _, err := cl.Broadcast(ctx, bad); !errors.Is(err, ErrRejected) {
			t.Errorf("bad txData %q: %v", bad, err)
		}
	}
}

func TestAccountNodeDown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	down := "http://user:secretpw@" + srv.Listener.Addr().String() + "/?apikey=k3y"
	srv.Close()
	for _, code := range []string{"SOL", "XLM", "XRP", "TRON"} {
		signed, _ := signedVector(t, code)
		nodes, err := Dial([]NodeSpec{{Chain: code, URL: down}}, testDialer)
		if err != nil {
			t.Fatal(err)
		}
		cl, _ := nodes.Client(code, false)
		_, err = cl.Broadcast(context.Background(), signed)
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: node down: %v", code, err)
		} else if msg := err.Error(); contains(msg, "secretpw") || contains(msg, "k3y") {
			t.Errorf("%s: error quotes credentials: %s", code, msg)
		}
		if _, err := Dial([]NodeSpec{{Chain: code, URL: "ftp://node"}}, testDialer); !errors.Is(err, ErrBadNode) {
			t.Errorf("%s: ftp URL: %v", code, err)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// Node answers are untrusted input: whatever a node (or something posing as
// one) answers, the clients report ErrRejected or ErrUnavailable, or an id
// they computed themselves, and never panic.
func FuzzAccountNodeAnswers(f *testing.F) {
	for _, a := range []string{
		`{"jsonrpc":"2.0","result":"x","id":1}`, `{"error":{"code":1,"message":"already been processed"}}`,
		`{"hash":"00","title":"x","extras":{"result_codes":{"transaction":"tx_failed","operations":["a"]}}}`,
		`{"result":{"status":"success","engine_result":"tefPAST_SEQ","tx_json":{"hash":""}}}`,
		`{"code":"DUP_TRANSACTION_ERROR","message":"zz"}`, `{"result":true,"txid":5}`, `null`, ``, `[`,
	} {
		for _, st := range []int{200, 400, 504} {
			f.Add(a, st)
		}
	}
	var answer string
	var status int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	defer srv.Close()
	type target struct {
		cl     Client
		signed string
		id     string
	}
	var targets []target
	for _, code := range []string{"SOL", "XLM", "XRP", "TRON"} {
		rows := vectors.SigningFor(code)
		var e struct {
			Signed string `json:"signed"`
			TxID   string `json:"txId"`
		}
		_ = json.Unmarshal(rows[0].Expected, &e)
		nodes, err := Dial([]NodeSpec{{Chain: code, URL: srv.URL}}, testDialer)
		if err != nil {
			f.Fatal(err)
		}
		cl, _ := nodes.Client(code, false)
		targets = append(targets, target{cl, e.Signed, e.TxID})
	}
	f.Fuzz(func(t *testing.T, a string, st int) {
		if st < 200 || st > 599 {
			return
		}
		answer, status = a, st
		for i, tg := range targets {
			id, err := tg.cl.Broadcast(context.Background(), tg.signed)
			if err == nil && id != tg.id && i != 1 { // Horizon's hash is taken as answered
				t.Fatalf("target %d: id %s accepted from the node", i, id)
			}
			if err != nil && !errors.Is(err, ErrRejected) && !errors.Is(err, ErrUnavailable) {
				t.Fatalf("target %d: error %v wraps neither sentinel", i, err)
			}
		}
	})
}
