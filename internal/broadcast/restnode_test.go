package broadcast

// No VeChain Thor, Flow Access or MultiversX node can run here (none is
// packaged or buildable as a Go module), so these clients are tested against
// a local httptest server that implements the node's documented endpoint:
// it checks method, path, headers and the exact payload, and answers as the
// node's API documents.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// fakeREST is one documented endpoint of a node's REST API.
type fakeREST struct {
	t      *testing.T
	path   string
	mu     sync.Mutex
	bodies []string
	auth   [2]string
	// answer gives the status and body for a request body.
	answer func(body []byte) (int, string)
}

func (f *fakeREST) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != f.path {
		f.t.Errorf("request %s %s, want POST %s", r.Method, r.URL.Path, f.path)
		http.NotFound(w, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("Content-Type %q", ct)
	}
	if !json.Valid(body) {
		f.t.Errorf("body is not JSON: %q", body)
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	if u, p, ok := r.BasicAuth(); ok {
		f.auth = [2]string{u, p}
	}
	f.mu.Unlock()
	status, out := f.answer(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, out)
}

func (f *fakeREST) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

func serveREST(t *testing.T, path string, answer func([]byte) (int, string)) (*fakeREST, *httptest.Server) {
	f := &fakeREST{t: t, path: path, answer: answer}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// dialed builds the chain's client through the dialer table, as the server does.
func dialed(t *testing.T, chain, url string) Client {
	t.Helper()
	nodes, err := Dial([]NodeSpec{{Chain: chain, URL: url}}, testDialer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := nodes.Client(chain, false)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
