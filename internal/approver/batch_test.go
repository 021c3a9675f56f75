package approver_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/approver"
	"github.com/custoskms/custos/internal/daemon"
)

// requestOf is the v2 request the daemon sends about s.
func requestOf(s daemon.Subject) approval.Request {
	return approval.Request{Version: approval.Version, ID: s.Tx.ID, Chain: s.Intent.Chain, Network: s.Intent.Network,
		SignatureIDs: s.Tx.Hashes, Indexes: s.Indexes, SerializedTransaction: s.Tx.SerializedTransaction,
		Digest: approval.Digest(s.Tx.SerializedTransaction), Intent: s.Intent, Timestamp: time.Now().Unix()}
}

// askBatch posts the batch of subjects to the service, signed, and returns
// its verified decisions in order, or the answer's status when not 200.
func askBatch(t *testing.T, f *fixture, subjects ...daemon.Subject) ([]approval.Response, int) {
	t.Helper()
	reqs := make([]approval.Request, len(subjects))
	for i, s := range subjects {
		reqs[i] = requestOf(s)
	}
	body, err := json.Marshal(approval.BatchRequest{Version: approval.Version, Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.url+"/"+approval.BatchSegment, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(reqs[0].Timestamp, 10)
	r.Header.Set(approval.HeaderTimestamp, ts)
	r.Header.Set(approval.HeaderSignature, approval.RequestMAC(secret, http.MethodPost, r.URL.RequestURI(), ts, body))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res, err := approval.ReadBatchResponse(secret, resp, reqs, time.Now(), approval.DefaultMaxAge)
	var se *approval.StatusError
	if errors.As(err, &se) {
		return nil, se.Status
	}
	if err != nil {
		t.Fatal(err)
	}
	out := make([]approval.Response, len(res))
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("item %d: %v", i, r.Err)
		}
		out[i] = r.Response
	}
	return out, http.StatusOK
}

// The batch route decides each request as the single route does, records
// the batch in one write and its auto-approvals in one audit append.
func TestBatchDecidesAsSingle(t *testing.T) {
	subjects := []daemon.Subject{
		subject(id(1), "wallet-a", "999"),    // small: auto-approved
		subject(id(2), "wallet-a", "1000"),   // default: one approval
		subject(id(3), "wallet-a", "250000"), // large: 2 of treasury
		subject(id(4), "wallet-ops", "1"),    // ops wallet
		subject(id(5), "wallet-b", "5"),      // small: auto-approved
	}
	single := newFixture(t, testRules)
	var want []string
	for _, s := range subjects {
		err := single.ask.Approve(t.Context(), s)
		switch {
		case err == nil:
			want = append(want, "approve")
		case errors.Is(err, daemon.ErrRefused):
			want = append(want, "refuse")
		default:
			want = append(want, "pending")
		}
	}
	batch := newFixture(t, testRules)
	got, status := askBatch(t, batch, subjects...)
	if status != http.StatusOK {
		t.Fatalf("batch answered %d", status)
	}
	for i, r := range got {
		if string(r.Decision) != want[i] {
			t.Errorf("item %d: %s, the single route's %s", i, r.Decision, want[i])
		}
		if r.ID != subjects[i].Tx.ID {
			t.Errorf("item %d answers %s", i, r.ID)
		}
	}
	if !strings.Contains(got[2].Reason, "0 of 2 approvals") {
		t.Errorf("pending reason %q", got[2].Reason)
	}
	if batch.audit.appends != 1 || strings.Join(batch.audit.types(), ",") != strings.Join(single.audit.types(), ",") {
		t.Fatalf("%d appends of %v, want one of the single route's %v", batch.audit.appends, batch.audit.types(), single.audit.types())
	}
	for _, s := range subjects {
		a, err1 := single.store.Tx(t.Context(), s.Tx.ID)
		b, err2 := batch.store.Tx(t.Context(), s.Tx.ID)
		if err1 != nil || err2 != nil || a.Status != b.Status || a.Need.Rule != b.Need.Rule {
			t.Errorf("%s stored %s/%s by the batch, %s/%s alone (%v %v)", s.Tx.ID, b.Status, b.Need.Rule, a.Status, a.Need.Rule, err1, err2)
		}
	}
	// Asked again: the stored outcomes, nothing audited again.
	if again, _ := askBatch(t, batch, subjects...); again[0].Decision != approval.Approve || again[1].Decision != approval.Pending || batch.audit.appends != 1 {
		t.Fatalf("asked again: %+v, %d appends", again, batch.audit.appends)
	}
}

// A 2-of-n request stays pending in a batch until two operators approve.
func TestBatchTwoOfNStaysPending(t *testing.T) {
	f := newFixture(t, testRules)
	ctx := t.Context()
	large, other := subject(id(3), "wallet-a", "250000"), subject(id(6), "wallet-a", "300000")
	if got, _ := askBatch(t, f, large, other); got[0].Decision != approval.Pending || got[1].Decision != approval.Pending {
		t.Fatalf("before any decision: %+v", got)
	}
	if _, err := f.svc.Decide(ctx, "alice", id(3), approval.Approve, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := askBatch(t, f, large, other); got[0].Decision != approval.Pending || !strings.Contains(got[0].Reason, "1 of 2") {
		t.Fatalf("one approval: %+v", got[0])
	}
	if _, err := f.svc.Decide(ctx, "bob", id(3), approval.Approve, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := askBatch(t, f, large, other); got[0].Decision != approval.Approve || got[1].Decision != approval.Pending {
		t.Fatalf("two approvals: %+v", got)
	}
	if _, err := f.svc.Decide(ctx, "carol", id(6), approval.Refuse, "unknown recipient"); err != nil {
		t.Fatal(err)
	}
	if got, _ := askBatch(t, f, large, other); got[1].Decision != approval.Refuse || got[1].Reason != "refused by carol: unknown recipient" {
		t.Fatalf("refused: %+v", got[1])
	}
}

// A batch the audit log cannot take is answered 500, recording nothing:
// the daemon then asks about each alone.
func TestBatchFailsClosedWithoutTheAuditLog(t *testing.T) {
	f := newFixture(t, testRules)
	f.audit.fail = true
	if _, status := askBatch(t, f, subject(id(1), "wallet-a", "1"), subject(id(2), "wallet-a", "5000")); status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", status)
	}
	for _, n := range []byte{1, 2} {
		if _, err := f.store.Tx(t.Context(), id(n)); !errors.Is(err, approver.ErrRequestNotFound) {
			t.Fatalf("%s stored: %v", id(n), err)
		}
	}
}
