package daemon

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// With a signer id the pending request is a claim; without, the body is
// exactly Tatum's.
func TestClientSendsClaim(t *testing.T) {
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		bodies = append(bodies, b)
		_, _ = w.Write([]byte("[]"))
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, testAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pending(t.Context(), "ETH", []string{sigPK}, 5); err != nil {
		t.Fatal(err)
	}
	c.SignerID, c.LeaseSeconds = "signer-1", 45
	if _, err := c.Pending(t.Context(), "ETH", []string{sigPK}, 5); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 2 || len(bodies[0]) != 1 {
		// Not even the limit: without a claim the API would refuse it.
		t.Fatalf("plain request body %v, want only signatureIds", bodies)
	}
	if bodies[1]["signerId"] != "signer-1" || bodies[1]["leaseSeconds"] != float64(45) || bodies[1]["limit"] != float64(5) {
		t.Fatalf("claim body %v", bodies[1])
	}
}

// A run whose lease has (nearly) run out starts no more transactions: they
// may already be leased to another daemon. The next run claims them again.
func TestRunStopsWhenTheLeaseRunsOut(t *testing.T) {
	h := newHarness(t)
	h.queueThree()
	d := h.daemon(func(c *Config) { c.Lease = time.Nanosecond })
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum != (Summary{Pending: 2}) || h.chain.calls.Load() != 0 {
		t.Fatalf("summary %+v, %d signatures; want nothing started", sum, h.chain.calls.Load())
	}
	d.cfg.Lease = time.Minute
	if sum, err := d.RunOnce(t.Context()); err != nil || sum.Submitted != 2 {
		t.Fatalf("run with a live lease: %+v, %v", sum, err)
	}
}

// With a claim limit a run takes only a share of the backlog, and RunOnce
// runs again while the claims come back full, so the whole backlog is signed.
func TestRunOnceClaimsInShares(t *testing.T) {
	h := newHarness(t)
	h.queueThree()
	c := h.api.client()
	c.SignerID, c.LeaseSeconds = "signer-1", 60
	d, err := New(Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: h.ledger, Lookup: lookupOf(h.chain),
		Lease: time.Minute, ClaimLimit: 1}, c, h.keys)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Submitted != 2 || sum.Failed != 0 {
		t.Fatalf("summary %+v, want both ETH transactions submitted", sum)
	}
	h.api.mu.Lock()
	defer h.api.mu.Unlock()
	if h.api.limits[0] != 1 || h.api.pendingCalls < 3 {
		t.Fatalf("limits asked %v in %d requests; want limit 1 and a request per share plus an empty one", h.api.limits, h.api.pendingCalls)
	}
}

// A transaction started within the lease but still unsigned once three
// quarters of it have passed (here: its approval took that long) is not
// signed: its lease may go to another daemon before its submission. The next
// run, with a lease of its own, signs it.
func TestUnsignedPastTheLeaseIsLeftForTheNextRun(t *testing.T) {
	h := newHarness(t)
	h.queueThree()
	const lease = 400 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(lease) // past three quarters of the lease
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	d := h.daemon(func(c *Config) {
		c.Lease = lease
		c.Approval = approver(t, srv.URL, "POST", []byte("secret"))
	})
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Signed != 0 || sum.Submitted != 0 || sum.Failed != 0 || h.chain.calls.Load() != 0 {
		t.Fatalf("summary %+v, %d signatures; want nothing signed, nothing failed", sum, h.chain.calls.Load())
	}
	d.cfg.Lease = time.Minute
	if sum, err := d.RunOnce(t.Context()); err != nil || sum.Submitted != 2 {
		t.Fatalf("run with a live lease: %+v, %v", sum, err)
	}
}
