package approver_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/approver"
	"github.com/custoskms/custos/internal/approver/sqlite"
	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/daemon"
)

var secret = []byte("shared approval secret")

// memAudit keeps appended events; fail makes Append fail.
type memAudit struct {
	mu      sync.Mutex
	events  []audit.Event
	fail    bool
	appends int // calls to Append
}

func (m *memAudit) Append(_ context.Context, events ...audit.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.appends++
	if m.fail {
		return errors.New("disk full")
	}
	m.events = append(m.events, events...)
	return nil
}

func (m *memAudit) types() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, e := range m.events {
		out = append(out, e.Type+":"+e.Fields["decision"].(string))
	}
	return out
}

const testRules = `{
	"groups": {"treasury": ["alice", "bob", "carol"], "ops": ["dave"]},
	"rules": [
		{"name": "ops wallet", "wallets": ["wallet-ops"], "group": "ops", "approvals": 1},
		{"name": "small", "chain": "ETH", "below": "1000", "approvals": 0},
		{"name": "large", "atLeast": "100000", "group": "treasury", "approvals": 2}
	],
	"default": {"approvals": 1},
	"tokens": [{"chain": "ETH", "asset": "0x00000000000000000000000000000000000000dd", "symbol": "USDT", "decimals": 6}]
}`

type fixture struct {
	svc   *approver.Service
	store approver.Store
	audit *memAudit
	// ask is the daemon's own v2 client pointed at the service.
	ask *daemon.Approver
	// url is the service's approval URL (the daemon's --externalUrl).
	url string
}

func newFixture(t testing.TB, rules string) *fixture {
	t.Helper()
	au := &memAudit{}
	f := newFixtureAudit(t, rules, au)
	f.audit = au
	return f
}

// newFixtureAudit is newFixture with another audit log (a real one, for
// benchmarks).
func newFixtureAudit(t testing.TB, rules string, au approver.Auditor) *fixture {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "approver.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rs, err := approver.ReadRules(strings.NewReader(rules))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := approver.New(approver.Config{Store: st, Rules: rs, Secret: secret, Audit: au})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+approver.ApprovalPath+"{id}", svc)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	url := srv.URL + strings.TrimSuffix(approver.ApprovalPath, "/")
	ask, err := daemon.NewApprover(daemon.ApproverConfig{URL: url, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, store: st, ask: ask, url: url}
}

// subject is an ETH transfer of amount wei from wallet.
func subject(id, wallet, amount string) daemon.Subject {
	idx := uint32(0)
	return daemon.Subject{
		Tx: daemon.PendingTx{ID: id, Chain: "ETH", SerializedTransaction: `{"to":"0xabc","value":"` + amount + `"}`,
			Hashes: []string{wallet}, Index: &idx},
		Intent: intent.Intent{Chain: "ETH", Network: "mainnet", Signers: []string{}, Transfers: []intent.Transfer{
			{To: "0x00000000000000000000000000000000000000aa", Amount: amount}}},
		Indexes: []uint32{0},
		Decoded: true,
	}
}

func id(n byte) string { return "65f1c0de00000000000000" + string([]byte{'0' + n/10, '0' + n%10}) }

func TestAutoApproveBelowTheAmount(t *testing.T) {
	f := newFixture(t, testRules)
	if err := f.ask.Approve(t.Context(), subject(id(1), "wallet-a", "999")); err != nil {
		t.Fatalf("small transfer: %v, want approved at once", err)
	}
	// Asked again (a daemon restarted before signing): the same answer.
	if err := f.ask.Approve(t.Context(), subject(id(1), "wallet-a", "999")); err != nil {
		t.Fatalf("asked again: %v", err)
	}
	if got := f.audit.types(); len(got) != 1 || got[0] != "approver.decision:approve" {
		t.Fatalf("audit %v, want one auto-approval", got)
	}
	// At the bound it is no longer small: the default's one approval.
	if err := f.ask.Approve(t.Context(), subject(id(2), "wallet-a", "1000")); !errors.Is(err, daemon.ErrNotApproved) || errors.Is(err, daemon.ErrRefused) {
		t.Fatalf("transfer at the bound: %v, want not approved yet", err)
	}
	tx, err := f.store.Tx(t.Context(), id(2))
	if err != nil || tx.Status != approver.StatusPending || tx.Need.Rule != "default" {
		t.Fatalf("stored %+v %v", tx, err)
	}
}

func TestTwoOfNAboveTheThreshold(t *testing.T) {
	f := newFixture(t, testRules)
	ctx := t.Context()
	s := subject(id(3), "wallet-a", "250000")
	err := f.ask.Approve(ctx, s)
	if !errors.Is(err, daemon.ErrNotApproved) || errors.Is(err, daemon.ErrRefused) || !strings.Contains(err.Error(), "0 of 2 approvals") {
		t.Fatalf("before any decision: %v, want pending with 0 of 2", err)
	}
	if _, err := f.svc.Decide(ctx, "dave", id(3), approval.Approve, ""); !errors.Is(err, approver.ErrNotEligible) {
		t.Fatalf("operator outside the group: %v", err)
	}
	if st, err := f.svc.Decide(ctx, "alice", id(3), approval.Approve, ""); err != nil || st != approver.StatusPending {
		t.Fatalf("first approval: %s %v", st, err)
	}
	if _, err := f.svc.Decide(ctx, "alice", id(3), approval.Approve, ""); !errors.Is(err, approver.ErrAlreadyDecided) {
		t.Fatalf("second approval by the same operator: %v", err)
	}
	if err := f.ask.Approve(ctx, s); !errors.Is(err, daemon.ErrNotApproved) || !strings.Contains(err.Error(), "1 of 2") {
		t.Fatalf("one approval is not enough: %v", err)
	}
	if st, err := f.svc.Decide(ctx, "bob", id(3), approval.Approve, ""); err != nil || st != approver.StatusApproved {
		t.Fatalf("second operator: %s %v", st, err)
	}
	if err := f.ask.Approve(ctx, s); err != nil {
		t.Fatalf("two approvals: %v, want approved", err)
	}
	if _, err := f.svc.Decide(ctx, "carol", id(3), approval.Refuse, "late"); !errors.Is(err, approver.ErrClosed) {
		t.Fatalf("decision after the outcome: %v", err)
	}
	if err := f.ask.Approve(ctx, s); err != nil {
		t.Fatalf("a late refusal changed an approval: %v", err)
	}
}

func TestRefusalIsFinalWithItsReason(t *testing.T) {
	f := newFixture(t, testRules)
	ctx := t.Context()
	s := subject(id(4), "wallet-a", "250000")
	_ = f.ask.Approve(ctx, s)
	if _, err := f.svc.Decide(ctx, "alice", id(4), approval.Approve, ""); err != nil {
		t.Fatal(err)
	}
	if st, err := f.svc.Decide(ctx, "carol", id(4), approval.Refuse, "unknown recipient"); err != nil || st != approver.StatusRefused {
		t.Fatalf("refusal: %s %v", st, err)
	}
	err := f.ask.Approve(ctx, s)
	var re *daemon.RefusedError
	if !errors.As(err, &re) || re.Reason != "refused by carol: unknown recipient" {
		t.Fatalf("daemon got %v, want a final refusal with carol's reason", err)
	}
}

func TestNamedGroupForAWallet(t *testing.T) {
	f := newFixture(t, testRules)
	ctx := t.Context()
	// The wallet's rule comes first: even a small amount needs the ops group.
	s := subject(id(5), "wallet-ops", "1")
	if err := f.ask.Approve(ctx, s); !errors.Is(err, daemon.ErrNotApproved) {
		t.Fatalf("ops wallet: %v", err)
	}
	if _, err := f.svc.Decide(ctx, "alice", id(5), approval.Approve, ""); !errors.Is(err, approver.ErrNotEligible) {
		t.Fatalf("treasury operator on the ops wallet: %v", err)
	}
	if _, err := f.svc.Decide(ctx, "dave", id(5), approval.Approve, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.ask.Approve(ctx, s); err != nil {
		t.Fatalf("after dave: %v", err)
	}
}

// A decision takes effect only once the audit log holds it.
func TestDecisionFailsClosedWithoutTheAuditLog(t *testing.T) {
	f := newFixture(t, testRules)
	ctx := t.Context()
	_ = f.ask.Approve(ctx, subject(id(6), "wallet-a", "5000"))
	f.audit.fail = true
	if _, err := f.svc.Decide(ctx, "alice", id(6), approval.Approve, ""); err == nil {
		t.Fatal("decided without an audit entry")
	}
	if err := f.ask.Approve(ctx, subject(id(7), "wallet-a", "1")); err == nil {
		t.Fatal("auto-approved without an audit entry")
	}
	f.audit.fail = false
	tx, err := f.store.Tx(ctx, id(6))
	if err != nil || len(tx.Decisions) != 0 || tx.Status != approver.StatusPending {
		t.Fatalf("after a failed audit: %+v %v", tx, err)
	}
	// The auto-approval left nothing stored; asked again, it is audited and
	// approved.
	if tx, err := f.store.Tx(ctx, id(7)); !errors.Is(err, approver.ErrRequestNotFound) {
		t.Fatalf("stored without an audit entry: %+v %v", tx, err)
	}
	if err := f.ask.Approve(ctx, subject(id(7), "wallet-a", "1")); err != nil {
		t.Fatalf("asked again: %v", err)
	}
	if got := f.audit.types(); len(got) != 1 || got[0] != "approver.decision:approve" {
		t.Fatalf("audit %v, want the one auto-approval", got)
	}
}

// A request stored pending although its rule needs nobody (a build that
// settled in a second write stopped between the two) is settled and
// audited when the daemon asks again.
func TestAutoApprovalLeftPendingIsSettled(t *testing.T) {
	f := newFixture(t, testRules)
	ctx := t.Context()
	s := subject(id(8), "wallet-a", "999")
	now := time.Now()
	req := approval.Request{Version: approval.Version, ID: s.Tx.ID, Chain: s.Intent.Chain, Network: s.Intent.Network,
		SignatureIDs: []string{"wallet-a"}, Indexes: []uint32{0}, SerializedTransaction: s.Tx.SerializedTransaction,
		Digest: approval.Digest(s.Tx.SerializedTransaction), Intent: s.Intent, Timestamp: now.Unix()}
	if _, err := f.store.Record(ctx, req, approver.Need{Rule: "small"}, nil, now); err != nil {
		t.Fatal(err)
	}
	if err := f.ask.Approve(ctx, s); err != nil {
		t.Fatalf("asked again: %v, want approved", err)
	}
	if got := f.audit.types(); len(got) != 1 || got[0] != "approver.decision:approve" {
		t.Fatalf("audit %v, want one auto-approval", got)
	}
	if tx, err := f.store.Tx(ctx, id(8)); err != nil || tx.Status != approver.StatusApproved {
		t.Fatalf("stored %+v %v", tx, err)
	}
}

// Requests the daemon did not sign are refused and never recorded.
func TestUnsignedRequestsAreRefused(t *testing.T) {
	f := newFixture(t, testRules)
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, approver.ApprovalPath+id(8), strings.NewReader(`{"version":2}`))
	r.Header.Set(approval.HeaderTimestamp, "1")
	r.Header.Set(approval.HeaderSignature, "sha256=00")
	f.svc.ServeHTTP(rec, r)
	if rec.Code != http.StatusUnauthorized || rec.Header().Get(approval.HeaderSignature) != "" {
		t.Fatalf("unsigned request: %d %q", rec.Code, rec.Header().Get(approval.HeaderSignature))
	}
	if _, err := f.store.Tx(t.Context(), id(8)); !errors.Is(err, approver.ErrRequestNotFound) {
		t.Fatalf("unsigned request recorded: %v", err)
	}
}

// An operator holding the API key that queued a transaction cannot approve
// it (they may still refuse it); another operator can. Without the key
// named in the request, nothing is known and nobody is stopped.
func TestOperatorCannotApproveWhatTheirKeyQueued(t *testing.T) {
	const key = "65f1c0de0123456789abcdef"
	f := newFixture(t, testRules)
	ctx := t.Context()
	if _, err := approver.AddOperator(ctx, f.store, "alice", "", []string{key, key}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if op, err := f.store.Operator(ctx, "alice"); err != nil || len(op.APIKeys) != 1 || op.APIKeys[0] != key {
		t.Fatalf("stored operator %+v %v", op, err)
	}
	if _, err := approver.AddOperator(ctx, f.store, "bob", "", []string{"../x"}, time.Now()); err == nil {
		t.Fatal("an operator with a malformed API key id was added")
	}
	if _, err := approver.AddOperator(ctx, f.store, "bob", "", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	s := subject(id(30), "wallet-a", "5000")
	s.Tx.QueuedBy = key
	_ = f.ask.Approve(ctx, s)
	if _, err := f.svc.Decide(ctx, "alice", id(30), approval.Approve, ""); !errors.Is(err, approver.ErrOwnTransaction) {
		t.Fatalf("approving one's own transaction: %v, want ErrOwnTransaction", err)
	}
	if out, err := f.svc.Decide(ctx, "bob", id(30), approval.Approve, ""); err != nil || out != approver.StatusApproved {
		t.Fatalf("another operator's approval: %v %v", out, err)
	}

	s = subject(id(31), "wallet-a", "5000")
	s.Tx.QueuedBy = key
	_ = f.ask.Approve(ctx, s)
	if out, err := f.svc.Decide(ctx, "alice", id(31), approval.Refuse, "not mine after all"); err != nil || out != approver.StatusRefused {
		t.Fatalf("refusing one's own transaction: %v %v", out, err)
	}

	_ = f.ask.Approve(ctx, subject(id(32), "wallet-a", "5000"))
	if out, err := f.svc.Decide(ctx, "alice", id(32), approval.Approve, ""); err != nil || out != approver.StatusApproved {
		t.Fatalf("approval without a known queuing key: %v %v", out, err)
	}
}
