package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
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

// claimingDaemon is a daemon of h whose client claims as signer-1 with lease.
func claimingDaemon(h *harness, lease time.Duration, mod func(*Config)) *Daemon {
	c := h.api.client()
	c.SignerID, c.LeaseSeconds = "signer-1", int(max(time.Second, lease)/time.Second)
	cfg := Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: h.ledger, Lookup: lookupOf(h.chain), Concurrency: 4, Lease: lease}
	if mod != nil {
		mod(&cfg)
	}
	d, err := New(cfg, c, h.keys)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { d.Close() })
	return d
}

// runApprovedAfter runs a claiming daemon of h with lease once, its approval
// service answering each request after wait.
func runApprovedAfter(h *harness, lease, wait time.Duration) Summary {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(wait)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	d := claimingDaemon(h, lease, func(c *Config) { c.Approval = approver(h.t, srv.URL, "POST", []byte("secret")) })
	sum, err := d.RunOnce(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	return sum
}

// A transaction that waits past three quarters of the claim's lease (here
// for its approval) is still signed in the same run when the API renews the
// leases the run holds: they were renewed while it waited.
func TestHeldLeasesAreRenewed(t *testing.T) {
	h := newHarness(t)
	h.queueThree()
	h.api.renews = true
	const lease = 400 * time.Millisecond
	sum := runApprovedAfter(h, lease, lease) // past three quarters of the lease
	if sum.Signed != 2 || sum.Submitted != 2 {
		t.Fatalf("summary %+v; want both signed and submitted in the first run", sum)
	}
	renewals := h.api.renewedIDs()
	// The first renewal is the process's probe of one lease; the next ones
	// are the run's renewals of everything it held.
	if len(renewals) < 2 || len(renewals[1]) != 2 {
		t.Fatalf("renewals %v; want a probe, then both held transactions renewed", renewals)
	}
}

// A lease the API does not renew (another signer claimed the transaction
// after the lease ran out) is lost: that transaction is not signed in the
// run, the others are.
func TestLostLeaseIsNotSigned(t *testing.T) {
	h := newHarness(t)
	h.queueThree()
	h.api.renews = true
	h.api.lostLease = map[string]bool{txID(2): true}
	const lease = 400 * time.Millisecond
	sum := runApprovedAfter(h, lease, lease/2) // a renewal happens meanwhile
	if sum.Signed != 1 || sum.Submitted != 1 || len(h.api.submitted(txID(2))) != 0 || len(h.api.submitted(txID(1))) != 1 {
		t.Fatalf("summary %+v, submitted %v / %v; want only the first transaction signed", sum,
			h.api.submitted(txID(1)), h.api.submitted(txID(2)))
	}
}

// Without renewals (an API without the lease route) a claiming run keeps
// at most unrenewedInFlight transactions in flight whatever the
// concurrency; with them, the concurrency.
func TestInFlightWithoutRenewals(t *testing.T) {
	for _, renews := range []bool{false, true} {
		h := newHarness(t)
		h.queueThree()
		h.api.renews = renews
		d := claimingDaemon(h, time.Minute, func(c *Config) { c.Concurrency = 1024 })
		held := newLeases(time.Minute, time.Now(), []string{txID(1)}, time.Now)
		ctx, cancel := context.WithCancel(t.Context())
		n := d.inFlight(ctx, "ETH", held)
		cancel()
		want := unrenewedInFlight
		if renews {
			want = 1024
		}
		if n != want {
			t.Fatalf("renewals %v: %d in flight, want %d", renews, n, want)
		}
	}
}

func TestClientRenewsLeases(t *testing.T) {
	var bodies []map[string]any
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v3/kms/lease" || r.Method != http.MethodPost {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		bodies = append(bodies, b)
		w.WriteHeader(status)
		// An id that was not asked about is no lease of the caller's.
		_, _ = w.Write([]byte(`{"renewed":["` + txID(2) + `","` + txID(9) + `"]}`))
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, testAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RenewLeases(t.Context(), []string{txID(1)}); !errors.Is(err, ErrNoRenewal) || len(bodies) != 0 {
		t.Fatalf("without a signer id: %v after %d requests; want ErrNoRenewal and none", err, len(bodies))
	}
	c.SignerID, c.LeaseSeconds = "signer-1", 30
	got, err := c.RenewLeases(t.Context(), []string{txID(1), txID(2)})
	if err != nil || !slices.Equal(got, []string{txID(2)}) {
		t.Fatalf("renewed %v, %v; want only %s", got, err, txID(2))
	}
	if b := bodies[0]; b["signerId"] != "signer-1" || b["leaseSeconds"] != float64(30) || len(b["ids"].([]any)) != 2 {
		t.Fatalf("body %v", b)
	}
	status = http.StatusNotFound
	for range 2 {
		if _, err := c.RenewLeases(t.Context(), []string{txID(1)}); !errors.Is(err, ErrNoRenewal) {
			t.Fatalf("404: %v, want ErrNoRenewal", err)
		}
	}
	if len(bodies) != 2 {
		t.Fatalf("%d requests; want no request once the API answered 404", len(bodies))
	}
}

func TestLeasesSignable(t *testing.T) {
	at := time.Unix(1000, 0)
	now := at
	l := newLeases(4*time.Second, at, []string{"a", "b", "c"}, func() time.Time { return now })
	now = at.Add(2999 * time.Millisecond)
	if !l.signable("a") || l.signable("x") {
		t.Fatal("a held lease with more than a quarter left must be signable, an unknown id not")
	}
	now = at.Add(3 * time.Second)
	if l.signable("a") {
		t.Fatal("a quarter of the lease left: not signable")
	}
	if lost := l.renewed([]string{"a", "b"}, []string{"a"}, at.Add(2*time.Second)); lost != 1 {
		t.Fatalf("lost %d, want 1", lost)
	}
	if !l.signable("a") || l.signable("b") {
		t.Fatal("a renewed lease is signable again, a lost one never")
	}
	// An older renewal never shortens a lease.
	l.renewed([]string{"a"}, []string{"a"}, at)
	if !l.signable("a") {
		t.Fatal("an older renewal shortened the lease")
	}
	l.release("a")
	if held := l.held(); !slices.Equal(held, []string{"c"}) {
		t.Fatalf("held %v, want [c]: a released, b lost", held)
	}
}
