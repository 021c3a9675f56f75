package daemon

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// fakeClock is the daemon's injectable clock: each simulated period moves it
// by Period, so a test counts attempts over many periods without waiting.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// periodic returns a daemon on h's ledger whose API client does not retry
// within one request, so each daemon attempt is one API call.
func (h *harness) periodic(clock *fakeClock, maxDelay time.Duration) *Daemon {
	h.t.Helper()
	c := h.api.client()
	c.Retries = 0
	d, err := New(Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: h.ledger, Lookup: lookupOf(h.chain),
		Period: time.Minute, MaxRetryDelay: maxDelay, Now: clock.now}, c, h.keys)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { d.Close() })
	return d
}

// runPeriods runs d once per simulated period, n times.
func runPeriods(t *testing.T, d *Daemon, clock *fakeClock, n int) {
	t.Helper()
	for range n {
		if _, err := d.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		clock.t = clock.t.Add(time.Minute)
	}
}

// A broadcast the API ends (403 broadcast.failed) is submitted and reported
// once, then never again: not at later periods while the API still serves
// it as pending, and not after a restart on the same ledger. The other
// transaction of the run is unaffected.
func TestPermanentFailureReportedOnce(t *testing.T) {
	h := newHarness(t)
	h.api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "tx-one", Hashes: []string{sigPK}})
	h.api.endBroadcast = func(id string) bool { return id == txID(1) }
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	d := h.periodic(clock, time.Hour)
	runPeriods(t, d, clock, 5)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	h.api.add(PendingTx{ID: txID(2), Chain: "ETH", SerializedTransaction: "tx-two", Hashes: []string{sigPK}})
	d = h.periodic(clock, time.Hour)
	runPeriods(t, d, clock, 5)

	if n := len(h.api.submitted(txID(1))); n != 1 {
		t.Fatalf("ended transaction submitted %d times, want once", n)
	}
	rep := h.api.errorsReported()
	if len(rep) != 1 || rep[0].SignatureID != txID(1) || !strings.Contains(rep[0].Error, codeTxFailed) {
		t.Fatalf("reports %+v, want one for %s", rep, txID(1))
	}
	if n := len(h.api.submitted(txID(2))); n != 1 {
		t.Fatalf("the other transaction submitted %d times", n)
	}
	if n := h.chain.calls.Load(); n != 2 {
		t.Fatalf("signed %d times, want once per transaction", n)
	}
	e, err := d.ledger.Lookup(t.Context(), []string{txID(1)})
	if err != nil || !strings.Contains(e[txID(1)].Failure, codeTxFailed) {
		t.Fatalf("ledger entry %+v, %v", e, err)
	}
}

// A submission that keeps failing for a reason that may heal is retried with
// a wait that doubles from the period: over 32 periods about six attempts,
// not 32. With the wait capped it keeps coming back at the cap, and once the
// API accepts, the transaction is submitted and the wait forgotten.
func TestTransientFailureBacksOff(t *testing.T) {
	for _, status := range []int{http.StatusBadGateway, http.StatusForbidden, http.StatusTooManyRequests} {
		h := newHarness(t)
		h.api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "tx-one", Hashes: []string{sigPK}})
		h.api.failBroadcast = func(string) int { return status }
		clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
		d := h.periodic(clock, time.Hour)
		runPeriods(t, d, clock, 32)
		// Waits after the n-th failure lie in [2^(n-2), 2^(n-1)] periods:
		// attempts at periods 0, 1, 2–3, 4–7, 8–15, 16–31.
		if n := len(h.api.submitted(txID(1))); n < 5 || n > 7 {
			t.Fatalf("HTTP %d: %d attempts in 32 periods, want 5 to 7", status, n)
		}
		if n, r := len(h.api.submitted(txID(1))), len(h.api.errorsReported()); r != n {
			t.Fatalf("HTTP %d: %d reports for %d attempts", status, r, n)
		}
	}

	h := newHarness(t)
	h.api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "tx-one", Hashes: []string{sigPK}})
	h.api.failBroadcast = func(string) int { return http.StatusBadGateway }
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	d := h.periodic(clock, 4*time.Minute)
	runPeriods(t, d, clock, 64)
	// Capped at 4 periods, drawn from [2, 4]: at least one attempt every
	// 4 periods after the first three.
	if n := len(h.api.submitted(txID(1))); n < 16 || n > 33 {
		t.Fatalf("capped: %d attempts in 64 periods, want 16 to 33", n)
	}
	h.api.failBroadcast = nil
	runPeriods(t, d, clock, 5)
	if len(d.retries.m) != 0 {
		t.Fatalf("retry state kept after success: %v", d.retries.m)
	}
	h.api.mu.Lock()
	defer h.api.mu.Unlock()
	if tx := h.api.find(txID(1)); tx == nil || tx.completed == "" {
		t.Fatal("not completed after the API accepted")
	}
}
