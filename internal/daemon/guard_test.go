package daemon

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Only the API's id form reaches the approval URL and the ledger: an API
// that answers a path as an id is refused when its answer is parsed.
func TestParsePendingTxRefusesBadIDs(t *testing.T) {
	for _, id := range []string{"../../health", "65f1c0de000000000000000", "65f1c0de00000000000000011",
		"65f1c0de00000000000000/1", "65f1c0de0000000000000%2e", "65f1c0de00000000000000é"} {
		_, err := ParsePendingTx([]byte(`{"id":"` + id + `","chain":"ETH","serializedTransaction":"0x01","hashes":["a"]}`))
		if !errors.Is(err, errBadID) {
			t.Errorf("id %q: %v, want errBadID", id, err)
		}
	}
	if _, err := ParsePendingTx([]byte(`{"id":"65f1c0deABCDEFabcdef0123","chain":"ETH","serializedTransaction":"0x01","hashes":["a"]}`)); err != nil {
		t.Errorf("a valid id: %v", err)
	}
}

// A redirect from the approval service is an answer, not a way to approval:
// the service behind an SSO proxy that redirects to a login page (200) must
// not approve everything. A bad id never reaches the service.
func TestApprovalFollowsNoRedirect(t *testing.T) {
	var login, asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			login.Add(1)
			w.WriteHeader(http.StatusOK)
			return
		}
		asked.Add(1)
		http.Redirect(w, r, "/login", http.StatusFound)
	}))
	defer srv.Close()
	a := approver(t, srv.URL, "GET", []byte("secret"))
	err := a.Approve(t.Context(), Subject{Tx: PendingTx{ID: txID(1)}})
	if !errors.Is(err, ErrNotApproved) || errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "302") {
		t.Errorf("redirected approval: %v, want not approved (HTTP 302)", err)
	}
	if login.Load() != 0 || asked.Load() != 1 {
		t.Errorf("login page asked %d times, approval %d times", login.Load(), asked.Load())
	}
	if err := a.Approve(t.Context(), Subject{Tx: PendingTx{ID: "../../login"}}); !errors.Is(err, ErrNotApproved) || asked.Load()+login.Load() != 1 {
		t.Errorf("bad id: %v, service asked %d more times", err, asked.Load()+login.Load()-1)
	}
}

// The API key never follows a redirect: an API (or something in its place)
// answering 307 to another host gets an error, and that host sees nothing.
func TestClientFollowsNoRedirect(t *testing.T) {
	var keys atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != "" {
			keys.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[]`))
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	c, err := NewClient(api.URL, "the-api-key")
	if err != nil {
		t.Fatal(err)
	}
	c.Retries = 0
	_, err = c.Pending(t.Context(), "ETH", []string{"a"}, 0)
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusTemporaryRedirect {
		t.Errorf("redirected pending request: %v, want HTTP 307", err)
	}
	if keys.Load() != 0 {
		t.Errorf("the API key reached the other host %d times", keys.Load())
	}
}
