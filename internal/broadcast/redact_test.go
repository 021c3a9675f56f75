package broadcast

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/custoskms/custos/internal/vectors"
)

// broadcastable is a signed transaction the chain's client accepts, so that
// the client gets as far as asking its node.
func broadcastable(t testing.TB, code string) string {
	t.Helper()
	switch code {
	case "FLOW":
		return flowSigned(t).TxData
	case "EGLD":
		s, _ := egldSigned(t)
		return s
	case "VET":
		s, _ := vetSigned(t)
		return s
	}
	for _, r := range vectors.SigningFor(code) {
		var e struct{ Signed string }
		if json.Unmarshal(r.Expected, &e) == nil && e.Signed != "" {
			return e.Signed
		}
	}
	switch code {
	case "BTC", "LTC", "DOGE", "BCH":
		return utxoSigned
	case "ETH", "BSC", "MATIC", "CELO", "ONE", "XDC", "KLAY":
		s, _ := signedVector(t, "ETH")
		return s
	}
	t.Fatalf("%s: no signed transaction to broadcast in this test: add one", code)
	return ""
}

// TestNodeErrorsKeepURLSecrets drives every node client into its
// error paths (node down, node answering a server error or a refusal that
// echoes the request's credentials and query back) and checks that no error
// text holds the node URL's password or query secret.
func TestNodeErrorsKeepURLSecrets(t *testing.T) {
	const (
		password = "pw-S3cretPass"
		apiKey   = "Q-s3cretKey42"
	)
	secrets := []string{password, apiKey}
	var hits atomic.Int64
	echo := func(status int) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			u, p, _ := r.BasicAuth()
			w.WriteHeader(status)
			fmt.Fprintf(w, "refused %s %s for %s:%s at %s", r.Method, r.URL.RequestURI(), u, p, r.Host)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	down := httptest.NewServer(http.NotFoundHandler())
	downAddr := down.Listener.Addr().String()
	down.Close()
	nodes := map[string]string{
		"down":       downAddr,
		"HTTP 500":   strings.TrimPrefix(echo(http.StatusInternalServerError).URL, "http://"),
		"HTTP 400":   strings.TrimPrefix(echo(http.StatusBadRequest).URL, "http://"),
		"HTTP 401":   strings.TrimPrefix(echo(http.StatusUnauthorized).URL, "http://"),
		"HTTP 200 ?": strings.TrimPrefix(echo(http.StatusOK).URL, "http://"),
	}
	chains := dialedChains()
	if len(chains) < 10 {
		t.Fatalf("only %d registered node clients: %v", len(chains), chains)
	}
	for _, code := range chains {
		tx := broadcastable(t, code)
		for what, addr := range nodes {
			raw := "http://operator:" + password + "@" + addr + "/rpc?apikey=" + apiKey + "&v=1"
			before := hits.Load()
			ns, err := Dial([]NodeSpec{{Chain: code, URL: raw}}, testDialer)
			if err != nil {
				t.Fatalf("%s: dial: %v", code, err)
			}
			c, err := ns.Client(code, false)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Broadcast(context.Background(), tx)
			if err == nil {
				t.Errorf("%s, %s: broadcast succeeded", code, what)
				continue
			}
			if !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrRejected) {
				t.Errorf("%s, %s: error is neither unavailable nor rejected: %v", code, what, err)
			}
			if !errors.Is(err, ErrChainShutDown) && what != "down" && hits.Load() == before {
				t.Errorf("%s, %s: the client never asked the node (%v)", code, what, err)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("%s, %s: error text holds a secret of the node URL: %s", code, what, err)
				}
			}
		}
	}
}

func TestRedactErrKeepsSentinels(t *testing.T) {
	raw := "https://u:hunter2@node.example/rpc?apikey=s3cr3tkey"
	err := redactErr(fmt.Errorf("%w: %w: Post %q: refused", ErrUnavailable, context.DeadlineExceeded, "https://node.example/rpc?apikey=s3cr3tkey"), raw)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrRejected) {
		t.Fatalf("sentinels lost or added: %v", err)
	}
	if msg := err.Error(); strings.Contains(msg, "s3cr3tkey") || !strings.Contains(msg, "node.example/rpc") {
		t.Fatalf("redacted text %q", msg)
	}
	err = redactErr(rejected(true, "nonce too low at https://node.example/rpc?apikey=s3cr3tkey"), raw)
	if !errors.Is(err, ErrRejected) || !errors.Is(err, ErrPermanent) || strings.Contains(err.Error(), "s3cr3tkey") {
		t.Fatalf("permanent refusal redacted to %v", err)
	}
	plain := errors.New("no secret here")
	if redactErr(plain, raw) != plain || redactErr(nil, raw) != nil {
		t.Fatal("an error without secrets must pass unchanged")
	}
}

// Node answers are untrusted: whatever any registered client's node answers,
// the client reports an error wrapping ErrRejected or ErrUnavailable (or
// succeeds), and never panics.
func FuzzNodeAnswers(f *testing.F) {
	for _, a := range []string{
		`{"jsonrpc":"2.0","id":1,"result":"0x00"}`, `{"jsonrpc":"2.0","id":1,"error":{"code":-27,"message":"x"}}`,
		`{"id":"0x01"}`, `{"data":{"txHash":"ab"},"code":"successful"}`, `{"code":400,"message":"duplicate"}`,
		`bad tx: known tx`, `null`, ``, `[`,
	} {
		for _, st := range []int{200, 201, 400, 403, 500} {
			f.Add(a, st)
		}
	}
	var answer atomic.Value
	var status atomic.Int64
	answer.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(status.Load()))
		_, _ = fmt.Fprint(w, answer.Load().(string))
	}))
	defer srv.Close()
	type target struct {
		code string
		cl   Client
		tx   string
	}
	var targets []target
	for _, code := range dialedChains() {
		ns, err := Dial([]NodeSpec{{Chain: code, URL: srv.URL}}, testDialer)
		if err != nil {
			f.Fatal(err)
		}
		cl, _ := ns.Client(code, false)
		targets = append(targets, target{code, cl, broadcastable(f, code)})
	}
	f.Fuzz(func(t *testing.T, a string, st int) {
		if st < 200 || st > 599 {
			return
		}
		answer.Store(a)
		status.Store(int64(st))
		for _, tg := range targets {
			_, err := tg.cl.Broadcast(context.Background(), tg.tx)
			if err != nil && !errors.Is(err, ErrRejected) && !errors.Is(err, ErrUnavailable) {
				t.Fatalf("%s: error %v wraps neither sentinel", tg.code, err)
			}
		}
	})
}

// FuzzParseNode: a --node value is operator input; it parses or is refused
// with ErrBadNode, and the refusal never quotes the URL's password.
func FuzzParseNode(f *testing.F) {
	for _, s := range []string{"ETH=http://x", "BTC:testnet=http://u:pw@h:1", "ETH:devnet=http://x", "=", "ETH=", "x=y=z", ":=http://a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := ParseNode(s)
		if err != nil {
			if !errors.Is(err, ErrBadNode) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if spec.Chain == "" || spec.URL == "" {
			t.Fatalf("%q parsed to %+v", s, spec)
		}
	})
}
