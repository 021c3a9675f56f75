package daemon

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/policy"
)

// intentChain is the counting ETH double with an intent decoder: a
// serializedTransaction "pay:AMOUNT" sends AMOUNT wei to payee.
type intentChain struct {
	*countingChain
	decoded atomic.Int64
	// slow, when set, delays each signature, so that transactions overlap.
	slow time.Duration
}

var _ chain.Intender = (*intentChain)(nil)

const payee = "0x6B175474E89094C44Da98b954EedeAC495271d0F"

func (c *intentChain) Intent(serialized string, testnet bool, _ ...uint64) (intent.Intent, error) {
	c.decoded.Add(1)
	amount, ok := strings.CutPrefix(serialized, "pay:")
	if !ok {
		return intent.Intent{}, fmt.Errorf("%w: not a payment", chain.ErrInvalidTx)
	}
	return intent.Intent{Chain: "ETH", Network: chain.NetworkName(testnet),
		Transfers: []intent.Transfer{{To: payee, Amount: amount}}, Fee: &intent.Fee{Max: "21000"}}, nil
}

func (c *intentChain) Sign(ctx context.Context, req chain.SignRequest) (chain.Signed, error) {
	time.Sleep(c.slow)
	return c.countingChain.Sign(ctx, req)
}

func testPolicy(t *testing.T, limits string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(strings.NewReader(`{"version":1,"rules":[{"name":"eth-small","match":{"chains":["ETH"]},
		"action":"allow","limits":` + limits + `}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// withPolicy makes h's chain an intent decoder and the daemon's config use p.
func (h *harness) withPolicy(p *policy.Policy) (*intentChain, func(*Config)) {
	ic := &intentChain{countingChain: h.chain}
	return ic, func(c *Config) { c.Lookup = lookupOf(ic); c.Policy = p }
}

func (h *harness) pay(n int, amount string) {
	h.api.add(PendingTx{ID: txID(n), Chain: "ETH", SerializedTransaction: "pay:" + amount, Hashes: []string{sigPK}})
}

func metricsText(t *testing.T, d *Daemon) string {
	srv := httptest.NewServer(d.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A transaction over the limit is refused by the policy before the approval
// service is asked and before a key is used, reported to the API as refused
// with the rule's reason, counted, and never taken up again, not even by a
// restarted daemon; the one inside the limit is signed and submitted.
func TestPolicyRefusalIsFinal(t *testing.T) {
	h := newHarness(t)
	h.pay(1, "1000")
	h.pay(2, "1001")
	secret := []byte("s")
	as := newApprovalServer(t, secret, http.StatusOK)
	ic, mod := h.withPolicy(testPolicy(t, `{"maxAmount":{"":"1000"}}`))
	cfg := func(c *Config) { mod(c); c.Approval = approver(t, as.srv.URL, "GET", secret) }
	d := h.daemon(cfg)
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum != (Summary{Pending: 2, Signed: 1, Submitted: 1, Rejected: 1}) || as.requests != 1 || ic.calls.Load() != 1 {
		t.Fatalf("summary %+v, approval requests %d, signatures %d", sum, as.requests, ic.calls.Load())
	}
	if len(h.api.submitted(txID(1))) != 1 || len(h.api.submitted(txID(2))) != 0 {
		t.Fatal("the wrong transaction was submitted")
	}
	want := `refused by the signer: policy: rule "eth-small": maxAmount: 1001 of the native coin is above 1000`
	if r := h.api.errorsReported(); len(r) != 1 || r[0].SignatureID != txID(2) || !r[0].Refused || r[0].Error != want {
		t.Fatalf("reported %+v, want %q", r, want)
	}
	if m := metricsText(t, d); !strings.Contains(m, `custos_daemon_policy_denied_total{chain="ETH"} 1`) {
		t.Fatal("the refusal is not in the metrics")
	}
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d2 := h.daemon(cfg)
	if _, err := d2.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ic.decoded.Load() != 2 || as.requests != 1 || ic.calls.Load() != 1 || len(h.api.errorsReported()) != 1 {
		t.Fatalf("taken up again: decoded %d, approval requests %d, signatures %d, reports %d",
			ic.decoded.Load(), as.requests, ic.calls.Load(), len(h.api.errorsReported()))
	}
}

// With a policy, a transaction the chain cannot decode into an intent is
// refused: the policy cannot vouch for what it does not see.
func TestPolicyNeverSignsWhatItCannotDecode(t *testing.T) {
	h := newHarness(t)
	h.api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "opaque", Hashes: []string{sigPK}})
	ic, mod := h.withPolicy(testPolicy(t, `{}`)) // the double decodes only "pay:…"
	d := h.daemon(mod)
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r := h.api.errorsReported()
	if sum.Signed != 0 || h.chain.calls.Load() != 0 || ic.decoded.Load() != 1 || len(r) != 1 ||
		!strings.HasPrefix(r[0].Error, "decode:") {
		t.Fatalf("summary %+v, signatures %d, reports %+v", sum, h.chain.calls.Load(), r)
	}
}

// Daily limits hold across a restart: what the first daemon signed is in the
// ledger and counts for the second one.
func TestPolicyVelocitySurvivesRestart(t *testing.T) {
	h := newHarness(t)
	h.pay(1, "40")
	h.pay(2, "40")
	ic, mod := h.withPolicy(testPolicy(t, `{"daily":{"count":3,"volume":{"":"100"}}}`))
	d := h.daemon(mod)
	if sum, err := d.RunOnce(t.Context()); err != nil || sum.Submitted != 2 {
		t.Fatalf("first daemon: %+v %v", sum, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	h.pay(3, "21")                                                // 40 + 40 + 21 > 100
	h.pay(4, "20")                                                // 100: just inside
	h.pay(5, "0")                                                 // a fourth transaction: over the count
	d2 := h.daemon(func(c *Config) { mod(c); c.Concurrency = 1 }) // in queue order
	if _, err := d2.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ic.calls.Load() != 3 || len(h.api.submitted(txID(4))) != 1 {
		t.Fatalf("signatures %d, tx 4 submitted %d times", ic.calls.Load(), len(h.api.submitted(txID(4))))
	}
	reasons := map[string]string{}
	for _, r := range h.api.errorsReported() {
		reasons[r.SignatureID] = r.Error
	}
	if !strings.Contains(reasons[txID(3)], "daily.volume: 21 of the native coin would make 101") ||
		!strings.Contains(reasons[txID(5)], "daily.count: 3 transactions") || len(reasons) != 2 {
		t.Fatalf("reports %v", reasons)
	}
}

// Transactions signed at once (up to Concurrency in flight) cannot together
// pass a daily limit, and the spends the ledger holds are exactly those of
// the transactions signed.
func TestPolicyVelocityUnderConcurrency(t *testing.T) {
	h := newHarness(t)
	for i := range 40 {
		h.pay(i+1, "10")
	}
	ic, mod := h.withPolicy(testPolicy(t, `{"daily":{"volume":{"":"100"}}}`))
	ic.slow = 5 * time.Millisecond
	d := h.daemon(func(c *Config) { mod(c); c.Concurrency = 16 })
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Signed != 10 || sum.Rejected != 30 || ic.calls.Load() != 10 {
		t.Fatalf("summary %+v, signatures %d", sum, ic.calls.Load())
	}
	spent, err := d.ledger.Spent(t.Context(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(spent) != 10 {
		t.Fatalf("ledger holds %d spends", len(spent))
	}
}

// A reservation is given back when the transaction is not signed after all:
// an approval service that does not answer leaves the count unspent.
func TestPolicyReleasesWhenNotSigned(t *testing.T) {
	h := newHarness(t)
	h.pay(1, "10")
	secret := []byte("s")
	as := newApprovalServer(t, secret, http.StatusServiceUnavailable)
	ic, mod := h.withPolicy(testPolicy(t, `{"daily":{"count":1}}`))
	d := h.daemon(func(c *Config) { mod(c); c.Approval = approver(t, as.srv.URL, "GET", secret) })
	if sum, err := d.RunOnce(t.Context()); err != nil || sum.Rejected != 1 || ic.calls.Load() != 0 {
		t.Fatalf("first run: %+v %v", sum, err)
	}
	as.mu.Lock()
	as.status = http.StatusOK
	as.mu.Unlock()
	if sum, err := d.RunOnce(t.Context()); err != nil || sum.Submitted != 1 {
		t.Fatalf("approved run: %+v %v (reports %+v)", sum, err, h.api.errorsReported())
	}
}
