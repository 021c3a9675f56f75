// Package storetest is the contract every approver.Store implementation
// must keep, written once: a backend's test calls Run with a function that
// opens a fresh, empty store.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/approver"
	"github.com/custoskms/custos/internal/audit"
)

// Opener returns a new empty store; the test closes it.
type Opener func(t *testing.T) approver.Store

// Run runs the contract suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		f    func(*testing.T, approver.Store)
	}{
		{"Operators", testOperators},
		{"Enrolment", testEnrolment},
		{"RecordAndQueue", testRecordAndQueue},
		{"QueuePages", testQueuePages},
		{"RecordSettled", testRecordSettled},
		{"ConcurrentRecords", testConcurrentRecords},
		{"RecordAll", testRecordAll},
		{"Decide", testDecide},
		{"ConcurrentDecisions", testConcurrentDecisions},
		{"History", testHistory},
		{"Sessions", testSessions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tc.f(t, s)
		})
	}
}

// at is a fixed clock, whole microseconds (every backend keeps those).
var at = time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)

func addOp(t *testing.T, s approver.Store, name string, keys ...string) approver.Operator {
	t.Helper()
	op := approver.Operator{Name: name, DisplayName: "The " + name, Handle: []byte("handle-" + name), CreatedAt: at, APIKeys: keys}
	if err := s.AddOperator(t.Context(), op); err != nil {
		t.Fatal(err)
	}
	return op
}

func testOperators(t *testing.T, s approver.Store) {
	ctx := t.Context()
	addOp(t, s, "bob")
	addOp(t, s, "alice", "65f1c0de0123456789abcdef", "65f1c0de0000000000000001")
	if err := s.AddOperator(ctx, approver.Operator{Name: "alice", Handle: []byte("other"), CreatedAt: at}); !errors.Is(err, approver.ErrOperatorExists) {
		t.Fatalf("adding a name twice: %v", err)
	}
	ops, err := s.Operators(ctx)
	if err != nil || len(ops) != 2 || ops[0].Name != "alice" || ops[1].Name != "bob" {
		t.Fatalf("operators %+v %v, want alice, bob", ops, err)
	}
	a := ops[0]
	if a.DisplayName != "The alice" || !a.CreatedAt.Equal(at) ||
		!slices.Equal(a.APIKeys, []string{"65f1c0de0000000000000001", "65f1c0de0123456789abcdef"}) || len(ops[1].APIKeys) != 0 {
		t.Fatalf("stored %+v / %+v", a, ops[1])
	}
	if op, err := s.OperatorByHandle(ctx, []byte("handle-bob")); err != nil || op.Name != "bob" {
		t.Fatalf("by handle: %+v %v", op, err)
	}
	if _, err := s.Operator(ctx, "carol"); !errors.Is(err, approver.ErrOperatorNotFound) {
		t.Fatalf("unknown operator: %v", err)
	}
	if err := s.RemoveOperator(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveOperator(ctx, "alice"); !errors.Is(err, approver.ErrOperatorNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
	// The name can be reused, without the keys of the removed operator.
	if op := addOp(t, s, "alice"); op.Name != "alice" {
		t.Fatal(op)
	}
	if op, err := s.Operator(ctx, "alice"); err != nil || len(op.APIKeys) != 0 {
		t.Fatalf("re-added operator %+v %v", op, err)
	}
}

func testEnrolment(t *testing.T, s approver.Store) {
	ctx := t.Context()
	addOp(t, s, "alice")
	if err := s.SetEnrolment(ctx, "nobody", []byte("h0"), at.Add(time.Hour)); !errors.Is(err, approver.ErrOperatorNotFound) {
		t.Fatalf("enrolment of an unknown operator: %v", err)
	}
	if err := s.SetEnrolment(ctx, "alice", []byte("h1"), at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetEnrolment(ctx, "alice", []byte("h2"), at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enrolment(ctx, []byte("h1"), at); !errors.Is(err, approver.ErrNoEnrolment) {
		t.Fatalf("a replaced enrolment: %v", err)
	}
	if _, err := s.Enrolment(ctx, []byte("h2"), at.Add(2*time.Hour)); !errors.Is(err, approver.ErrNoEnrolment) {
		t.Fatalf("an expired enrolment: %v", err)
	}
	if op, err := s.Enrolment(ctx, []byte("h2"), at); err != nil || op != "alice" {
		t.Fatalf("enrolment: %q %v", op, err)
	}
	if err := s.AddCredential(ctx, "alice", []byte("cred"), []byte("data1")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCredential(ctx, "alice", []byte("cred2"), []byte("x")); !errors.Is(err, approver.ErrNoEnrolment) {
		t.Fatalf("a second passkey on one enrolment: %v", err)
	}
	if err := s.UpdateCredential(ctx, []byte("cred"), []byte("data2")); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Credentials(ctx, "alice")
	if err != nil || len(cs) != 1 || !bytes.Equal(cs[0], []byte("data2")) {
		t.Fatalf("credentials %q %v", cs, err)
	}
	if op, err := s.Operator(ctx, "alice"); err != nil || op.Passkeys != 1 {
		t.Fatalf("passkey count: %+v %v", op, err)
	}
}

func request(n int, chain, body string) approval.Request {
	return approval.Request{Version: approval.Version, ID: fmt.Sprintf("65f1c0de%016d", n), Chain: chain, Network: "mainnet",
		SignatureIDs: []string{"wallet"}, Indexes: []uint32{}, SerializedTransaction: body, Digest: approval.Digest(body),
		Timestamp: at.Unix(), QueuedBy: &approval.QueuedBy{APIKeyID: "65f1c0de0123456789abcdef"}}
}

var two = approver.Need{Rule: "large", Approvals: 2, Group: "treasury", Members: []string{"alice", "bob", "carol"}}

func testRecordAndQueue(t *testing.T, s approver.Store) {
	ctx := t.Context()
	r1, r2, r3 := request(1, "ETH", "a"), request(2, "BTC", "b"), request(3, "ETH", "c")
	for i, r := range []approval.Request{r1, r2, r3} {
		tx, err := s.Record(ctx, r, two, nil, at.Add(time.Duration(i)*time.Second))
		if err != nil || tx.Status != approver.StatusPending || !reflect.DeepEqual(tx.Need, two) || tx.Request.QueuedBy.APIKeyID != r.QueuedBy.APIKeyID {
			t.Fatalf("record %d: %+v %v", i, tx, err)
		}
	}
	// Asked again: the need and status stay as first stored (whatever the
	// outcome now given), last asked moves.
	tx, err := s.Record(ctx, r1, approver.Need{Rule: "other", Approvals: 1}, approve(t, nil), at.Add(time.Minute))
	if err != nil || !reflect.DeepEqual(tx.Need, two) || tx.Status != approver.StatusPending || !tx.FirstSeen.Equal(at) ||
		!tx.LastAsked.Equal(at.Add(time.Minute)) {
		t.Fatalf("asked again: %+v %v", tx, err)
	}
	q, err := s.Queue(ctx, approver.Filter{})
	if err != nil || len(q) != 3 || q[0].Request.ID != r3.ID || q[2].Request.ID != r1.ID {
		t.Fatalf("queue %v %v, want newest activity first", ids(q), err)
	}
	if q, _ := s.Queue(ctx, approver.Filter{Chain: "ETH", Limit: 1}); len(q) != 1 || q[0].Request.ID != r3.ID {
		t.Fatalf("filtered queue %v", ids(q))
	}
	if err := s.SetStatus(ctx, r2.ID, r2.Digest, approver.StatusApproved, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.Queue(ctx, approver.Filter{Status: approver.StatusPending}); len(q) != 2 {
		t.Fatalf("pending queue %v", ids(q))
	}
	if q, _ := s.Queue(ctx, approver.Filter{}); q[0].Request.ID != r2.ID {
		t.Fatalf("a settled outcome is activity: %v", ids(q))
	}
	// Another digest for an id is a new request, the one Tx returns.
	r1b := request(1, "ETH", "a2")
	if _, err := s.Record(ctx, r1b, two, nil, at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if tx, err := s.Tx(ctx, r1.ID); err != nil || tx.Request.Digest != r1b.Digest {
		t.Fatalf("latest request: %+v %v", tx.Request, err)
	}
	if _, err := s.Tx(ctx, "65f1c0de9999999999999999"); !errors.Is(err, approver.ErrRequestNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

// testQueuePages walks the queue a page at a time, from each page's last
// row: every request once, in the queue's order, also among requests
// stored at the same instant; Count counts what the filter selects.
func testQueuePages(t *testing.T, s approver.Store) {
	ctx := t.Context()
	for i := range 7 {
		chain := "ETH"
		if i%3 == 0 {
			chain = "BTC"
		}
		// Pairs share an instant: seq orders them.
		if _, err := s.Record(ctx, request(i, chain, fmt.Sprint("p", i)), two, nil, at.Add(time.Duration(i/2)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Queue(ctx, approver.Filter{})
	if err != nil || len(all) != 7 {
		t.Fatalf("queue %v %v", ids(all), err)
	}
	for _, f := range []approver.Filter{{}, {Chain: "ETH"}, {Chain: "BTC", Status: approver.StatusPending}} {
		want, err := s.Queue(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var got []approver.Tx
		page := f
		page.Limit = 2
		for range 10 {
			p, err := s.Queue(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p...)
			if len(p) < page.Limit {
				break
			}
			last := p[len(p)-1]
			page.Before = &approver.QueueCursor{Updated: last.Updated, Seq: last.Seq}
		}
		if !slices.Equal(ids(got), ids(want)) {
			t.Errorf("filter %+v: pages %v, want %v", f, ids(got), ids(want))
		}
		if n, err := s.Count(ctx, f); err != nil || n != len(want) {
			t.Errorf("filter %+v: count %d %v, want %d", f, n, err, len(want))
		}
	}
	// The count ignores the page.
	if n, err := s.Count(ctx, approver.Filter{Before: &approver.QueueCursor{Updated: at, Seq: 1}, Limit: 1}); err != nil || n != 7 {
		t.Errorf("count with a page: %d %v", n, err)
	}
	if n, err := s.Count(ctx, approver.Filter{Status: approver.StatusRefused}); err != nil || n != 0 {
		t.Errorf("count of refused: %d %v", n, err)
	}
}

func ids(txs []approver.Tx) []string {
	out := []string{}
	for _, t := range txs {
		out = append(out, t.Request.ID)
	}
	return out
}

func testDecide(t *testing.T, s approver.Store) {
	ctx := t.Context()
	r := request(1, "ETH", "a")
	if _, err := s.Record(ctx, r, two, nil, at); err != nil {
		t.Fatal(err)
	}
	d := approver.Decision{ID: r.ID, Digest: r.Digest, Operator: "alice", Decision: approval.Approve, At: at.Add(time.Second)}
	// A commit hook that fails undoes the decision.
	if _, err := s.Decide(ctx, d, func(approver.Status) error { return errors.New("log full") }); err == nil {
		t.Fatal("a failing commit hook: no error")
	}
	if tx, err := s.Tx(ctx, r.ID); err != nil || len(tx.Decisions) != 0 || tx.Status != approver.StatusPending {
		t.Fatalf("after a failing commit hook: %+v %v", tx, err)
	}
	var hooked approver.Status
	if out, err := s.Decide(ctx, d, func(o approver.Status) error { hooked = o; return nil }); err != nil || out != approver.StatusPending || hooked != out {
		t.Fatalf("one approval of two: %q (hook %q) %v", out, hooked, err)
	}
	if _, err := s.Decide(ctx, d, nil); !errors.Is(err, approver.ErrAlreadyDecided) {
		t.Fatalf("deciding twice: %v", err)
	}
	// An operator outside the group does not count.
	dx := approver.Decision{ID: r.ID, Digest: r.Digest, Operator: "mallory", Decision: approval.Refuse, Reason: "x", At: at.Add(time.Second)}
	if out, err := s.Decide(ctx, dx, nil); err != nil || out != approver.StatusPending {
		t.Fatalf("an ineligible refusal: %q %v", out, err)
	}
	d2 := approver.Decision{ID: r.ID, Digest: r.Digest, Operator: "bob", Decision: approval.Refuse, Reason: "no", At: at.Add(2 * time.Second)}
	if out, err := s.Decide(ctx, d2, nil); err != nil || out != approver.StatusRefused {
		t.Fatalf("a refusal: %q %v", out, err)
	}
	d3 := approver.Decision{ID: r.ID, Digest: r.Digest, Operator: "carol", Decision: approval.Approve, At: at.Add(3 * time.Second)}
	if _, err := s.Decide(ctx, d3, nil); !errors.Is(err, approver.ErrClosed) {
		t.Fatalf("deciding after the outcome: %v", err)
	}
	if _, err := s.Decide(ctx, approver.Decision{ID: r.ID, Digest: "sha256:00", Operator: "x", Decision: approval.Approve, At: at},
		nil); !errors.Is(err, approver.ErrRequestNotFound) {
		t.Fatalf("deciding on an unknown digest: %v", err)
	}
	tx, err := s.Tx(ctx, r.ID)
	if err != nil || tx.Status != approver.StatusRefused || len(tx.Decisions) != 3 ||
		tx.Decisions[0].Operator != "alice" || tx.Decisions[2].Reason != "no" || !tx.Updated.Equal(d2.At) {
		t.Fatalf("stored %+v %v", tx, err)
	}
	// Two approvals settle a 2-of-n request.
	r2 := request(2, "ETH", "b")
	if _, err := s.Record(ctx, r2, two, nil, at); err != nil {
		t.Fatal(err)
	}
	for i, op := range []string{"alice", "carol"} {
		want := []approver.Status{approver.StatusPending, approver.StatusApproved}[i]
		if out, err := s.Decide(ctx, approver.Decision{ID: r2.ID, Digest: r2.Digest, Operator: op, Decision: approval.Approve, At: at}, nil); err != nil || out != want {
			t.Fatalf("approval %d: %q %v, want %q", i+1, out, err, want)
		}
	}
}

// noAudit is an audit log that keeps nothing.
type noAudit struct{}

func (noAudit) Append(context.Context, ...audit.Event) error { return nil }

// testConcurrentDecisions has two operators approve a 2-of-n request at the
// same instant, many times: each must count the other's approval, so that
// every request ends approved. A store that settles the outcome from a tally
// read before the other decision was stored leaves some pending for good.
func testConcurrentDecisions(t *testing.T, s approver.Store) {
	ctx := t.Context()
	ops := []string{"alice", "bob"}
	for _, op := range ops {
		addOp(t, s, op)
	}
	svc, err := approver.New(approver.Config{Store: s, Audit: noAudit{}, Secret: []byte("secret")})
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 40
	for i := range rounds {
		r := request(100+i, "ETH", fmt.Sprint("race", i))
		if _, err := s.Record(ctx, r, approver.Need{Rule: "two", Approvals: 2}, nil, at); err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		outs := make([]approver.Status, len(ops))
		errs := make([]error, len(ops))
		var wg sync.WaitGroup
		for j, op := range ops {
			wg.Go(func() {
				<-start
				outs[j], errs[j] = svc.Decide(ctx, op, r.ID, approval.Approve, "")
			})
		}
		close(start)
		wg.Wait()
		for j := range ops {
			if errs[j] != nil {
				t.Fatalf("round %d: %s: %v", i, ops[j], errs[j])
			}
		}
		tx, err := s.Tx(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if tx.Status != approver.StatusApproved || len(tx.Decisions) != 2 {
			t.Fatalf("round %d: two approvals of a 2-of-n request at once left it %s (answers %v, %d decisions stored)",
				i, tx.Status, outs, len(tx.Decisions))
		}
		// Exactly one of the two decisions settled it.
		if (outs[0] == approver.StatusApproved) == (outs[1] == approver.StatusApproved) {
			t.Fatalf("round %d: answers %v, want one pending and one approved", i, outs)
		}
	}
}

func testHistory(t *testing.T, s approver.Store) {
	ctx := t.Context()
	addOp(t, s, "alice")
	auto, manual := request(1, "ETH", "a"), request(2, "BTC", "b")
	if _, err := s.Record(ctx, auto, approver.Need{Rule: "small"}, nil, at); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, auto.ID, auto.Digest, approver.StatusApproved, at.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	// Settling an outcome twice records it once.
	if err := s.SetStatus(ctx, auto.ID, auto.Digest, approver.StatusApproved, at.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, approver.Session{Hash: []byte("s1"), Operator: "alice", CSRF: "c", CreatedAt: at.Add(2 * time.Second),
		LastSeen: at.Add(2 * time.Second), Remote: "192.0.2.1:5000"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(ctx, manual, two, nil, at.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Decide(ctx, approver.Decision{ID: manual.ID, Digest: manual.Digest, Operator: "alice", Decision: approval.Refuse,
		Reason: "=bad", At: at.Add(4 * time.Second)}, nil); err != nil {
		t.Fatal(err)
	}
	h, err := s.History(ctx, approver.HistoryPage{})
	if err != nil || len(h) != 3 {
		t.Fatalf("history %+v %v, want 3 entries", h, err)
	}
	want := []approver.HistoryEntry{
		{Kind: approver.HistoryDecision, At: at.Add(4 * time.Second), Operator: "alice", ID: manual.ID, Chain: "BTC",
			Decision: approval.Refuse, Outcome: approver.StatusRefused, Reason: "=bad"},
		{Kind: approver.HistorySignin, At: at.Add(2 * time.Second), Operator: "alice", Remote: "192.0.2.1:5000"},
		{Kind: approver.HistoryDecision, At: at.Add(time.Second), ID: auto.ID, Chain: "ETH", Decision: approval.Approve,
			Outcome: approver.StatusApproved, Reason: "rule small"},
	}
	for i := range want {
		got := h[i]
		if !got.At.Equal(want[i].At) {
			t.Errorf("entry %d at %v, want %v", i, got.At, want[i].At)
		}
		got.Seq, got.At, want[i].At = 0, time.Time{}, time.Time{}
		if got != want[i] {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
	if !(h[0].Seq > h[1].Seq && h[1].Seq > h[2].Seq) {
		t.Errorf("seq not newest first: %d %d %d", h[0].Seq, h[1].Seq, h[2].Seq)
	}
	page, err := s.History(ctx, approver.HistoryPage{Before: h[0].Seq, Limit: 1})
	if err != nil || len(page) != 1 || page[0].Seq != h[1].Seq {
		t.Fatalf("page before %d: %+v %v", h[0].Seq, page, err)
	}
	if page, err := s.History(ctx, approver.HistoryPage{Before: h[2].Seq}); err != nil || len(page) != 0 {
		t.Fatalf("page before the oldest: %+v %v", page, err)
	}
}

func testSessions(t *testing.T, s approver.Store) {
	ctx := t.Context()
	addOp(t, s, "alice")
	ss := approver.Session{Hash: []byte("h"), Operator: "alice", CSRF: "tok", CreatedAt: at, LastSeen: at}
	if err := s.CreateSession(ctx, ss); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, ss.Hash, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(ctx, ss.Hash)
	if err != nil || got.Operator != "alice" || got.CSRF != "tok" || !got.CreatedAt.Equal(at) || !got.LastSeen.Equal(at.Add(time.Minute)) {
		t.Fatalf("session %+v %v", got, err)
	}
	if err := s.DeleteSession(ctx, ss.Hash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, ss.Hash); !errors.Is(err, approver.ErrNoSession) {
		t.Fatalf("deleted session: %v", err)
	}
	// Removing an operator ends their sessions.
	if err := s.CreateSession(ctx, approver.Session{Hash: []byte("h2"), Operator: "alice", CSRF: "t", CreatedAt: at, LastSeen: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveOperator(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, []byte("h2")); !errors.Is(err, approver.ErrNoSession) {
		t.Fatalf("session of a removed operator: %v", err)
	}
}

// approve is a Settlement approving a request, its Audit counted in audits
// (nil: an Audit must not be called).
func approve(t *testing.T, audits *atomic.Int32) *approver.Settlement {
	return &approver.Settlement{Outcome: approver.StatusApproved, Audit: func(context.Context) error {
		if audits == nil {
			t.Error("Audit called for a request stored before")
			return nil
		}
		audits.Add(1)
		return nil
	}}
}

var errAudit = errors.New("the audit log cannot be written")

// A request settled on arrival (an auto-approval) is audited, then stored
// with its outcome and its rule's history entry, in one Record.
func testRecordSettled(t *testing.T, s approver.Store) {
	ctx := t.Context()
	r := request(1, "ETH", "a")
	small := approver.Need{Rule: "small"}
	// An audit that fails stores nothing.
	failing := &approver.Settlement{Outcome: approver.StatusApproved, Audit: func(context.Context) error { return errAudit }}
	if _, err := s.Record(ctx, r, small, failing, at); !errors.Is(err, errAudit) {
		t.Fatalf("record with a failing audit: %v", err)
	}
	if _, err := s.Tx(ctx, r.ID); !errors.Is(err, approver.ErrRequestNotFound) {
		t.Fatalf("stored although not audited: %v", err)
	}
	var audits atomic.Int32
	tx, err := s.Record(ctx, r, small, approve(t, &audits), at)
	if err != nil || tx.Status != approver.StatusApproved || len(tx.Decisions) != 0 || !tx.Updated.Equal(at) || audits.Load() != 1 {
		t.Fatalf("record settled: %+v %v, %d audits", tx, err, audits.Load())
	}
	if got, err := s.Tx(ctx, r.ID); err != nil || got.Status != approver.StatusApproved || !got.Updated.Equal(at) || !reflect.DeepEqual(got.Need, small) {
		t.Fatalf("stored %+v %v", got, err)
	}
	// Asked again, it is read back, not audited, settled or recorded twice.
	tx, err = s.Record(ctx, r, small, approve(t, nil), at.Add(time.Second))
	if err != nil || tx.Status != approver.StatusApproved || !tx.LastAsked.Equal(at.Add(time.Second)) || !tx.Updated.Equal(at) {
		t.Fatalf("asked again: %+v %v", tx, err)
	}
	h, err := s.History(ctx, approver.HistoryPage{})
	want := approver.HistoryEntry{Kind: approver.HistoryDecision, ID: r.ID, Chain: "ETH", Decision: approval.Approve,
		Outcome: approver.StatusApproved, Reason: "rule small"}
	if err != nil || len(h) != 1 || !h[0].At.Equal(at) {
		t.Fatalf("history %+v %v, want one entry at %v", h, err, at)
	}
	if h[0].Seq, h[0].At = 0, (time.Time{}); h[0] != want {
		t.Fatalf("history entry\n got %+v\nwant %+v", h[0], want)
	}
	if q, err := s.Queue(ctx, approver.Filter{Status: approver.StatusPending}); err != nil || len(q) != 0 {
		t.Fatalf("waiting queue %v %v, want empty", ids(q), err)
	}
}

// Records from many goroutines at once (the daemon's workers), which a
// store may write together, each get their own request's state; each
// request is stored, audited, settled and in the history once; and one
// whose audit fails fails alone.
func testConcurrentRecords(t *testing.T, s approver.Store) {
	ctx := t.Context()
	const n = 40
	small := approver.Need{Rule: "small"}
	var mu sync.Mutex
	audits := map[int]int{}
	var wg sync.WaitGroup
	errs := make([]error, 2*n)
	for i := range 2 * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each request is asked twice at once; even ones are settled;
			// request 0's audit fails.
			k := i % n
			r := request(k, "ETH", fmt.Sprint("body", k))
			need, status := two, approver.StatusPending
			var settle *approver.Settlement
			if k%2 == 0 {
				need, status = small, approver.StatusApproved
				settle = &approver.Settlement{Outcome: status, Audit: func(context.Context) error {
					if k == 0 {
						return errAudit
					}
					mu.Lock()
					defer mu.Unlock()
					audits[k]++
					return nil
				}}
			}
			tx, err := s.Record(ctx, r, need, settle, at.Add(time.Duration(i)*time.Millisecond))
			if err == nil && (tx.Request.ID != r.ID || tx.Request.Digest != r.Digest || tx.Status != status || !reflect.DeepEqual(tx.Need, need)) {
				err = fmt.Errorf("request %d: got %s %s %s %+v", k, tx.Request.ID, tx.Request.Digest, tx.Status, tx.Need)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if k := i % n; k == 0 {
			if !errors.Is(err, errAudit) {
				t.Errorf("request 0, whose audit fails: %v", err)
			}
		} else if err != nil {
			t.Error(err)
		}
	}
	for k := 2; k < n; k += 2 {
		if audits[k] != 1 {
			t.Errorf("request %d audited %d times, want once", k, audits[k])
		}
	}
	q, err := s.Queue(ctx, approver.Filter{Limit: 4 * n})
	if err != nil || len(q) != n-1 {
		t.Fatalf("queue holds %d requests (%v), want %d", len(q), err, n-1)
	}
	settled := 0
	for _, tx := range q {
		if tx.Status == approver.StatusApproved {
			settled++
		}
	}
	h, err := s.History(ctx, approver.HistoryPage{Limit: 4 * n})
	if err != nil || settled != n/2-1 || len(h) != n/2-1 {
		t.Fatalf("%d settled, %d history entries (%v), want %d of each", settled, len(h), err, n/2-1)
	}
}

// A batch is recorded in one write: each request as Record would, the
// settled ones new to the store audited in one call before they commit,
// nothing stored when that call fails.
func testRecordAll(t *testing.T, s approver.Store) {
	ctx := t.Context()
	small := approver.Need{Rule: "small"}
	settled := func() *approver.Settlement { return &approver.Settlement{Outcome: approver.StatusApproved} }
	old := request(1, "ETH", "old")
	if _, err := s.Record(ctx, old, two, nil, at); err != nil {
		t.Fatal(err)
	}
	later := at.Add(time.Second)
	batch := []approver.Recording{
		{Req: old, Need: small, Settle: settled(), Now: later}, // asked again: keeps what is stored
		{Req: request(2, "ETH", "b"), Need: small, Settle: settled(), Now: later},
		{Req: request(3, "BTC", "c"), Need: two, Now: later},
		{Req: request(4, "ETH", "d"), Need: small, Settle: settled(), Now: later},
	}
	// A failing audit stores none of them.
	if _, err := s.RecordAll(ctx, batch[1:], func(context.Context, []int) error { return errAudit }); !errors.Is(err, errAudit) {
		t.Fatalf("a batch with a failing audit: %v", err)
	}
	for _, r := range batch[1:] {
		if _, err := s.Tx(ctx, r.Req.ID); !errors.Is(err, approver.ErrRequestNotFound) {
			t.Fatalf("%s stored although not audited: %v", r.Req.ID, err)
		}
	}
	var calls [][]int
	txs, err := s.RecordAll(ctx, batch, func(_ context.Context, settled []int) error {
		calls = append(calls, slices.Clone(settled))
		return nil
	})
	if err != nil || len(txs) != len(batch) {
		t.Fatalf("%d states, %v", len(txs), err)
	}
	if !reflect.DeepEqual(calls, [][]int{{1, 3}}) {
		t.Fatalf("audit called with %v, want once with [1 3]", calls)
	}
	for i, want := range []approver.Status{approver.StatusPending, approver.StatusApproved, approver.StatusPending, approver.StatusApproved} {
		tx := txs[i]
		if tx.Request.ID != batch[i].Req.ID || tx.Status != want {
			t.Errorf("state %d: %s %s, want %s %s", i, tx.Request.ID, tx.Status, batch[i].Req.ID, want)
		}
		stored, err := s.Tx(ctx, batch[i].Req.ID)
		if err != nil || stored.Status != want || !stored.LastAsked.Equal(later) {
			t.Errorf("stored %d: %+v %v", i, stored, err)
		}
	}
	if !reflect.DeepEqual(txs[0].Need, two) || !txs[0].FirstSeen.Equal(at) {
		t.Errorf("asked again, it changed: %+v", txs[0])
	}
	h, err := s.History(ctx, approver.HistoryPage{})
	if err != nil || len(h) != 2 || h[0].ID == h[1].ID || h[0].Outcome != approver.StatusApproved {
		t.Fatalf("history %+v %v, want the two auto-approvals", h, err)
	}
	// Asked again as a batch: nothing new to audit.
	calls = nil
	if _, err := s.RecordAll(ctx, batch, func(context.Context, []int) error { calls = append(calls, nil); return nil }); err != nil || len(calls) != 0 {
		t.Fatalf("asked again: %v, audit called %d times", err, len(calls))
	}
}
