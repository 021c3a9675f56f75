package e2e

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/approver"
	approversqlite "github.com/custoskms/custos/internal/approver/sqlite"
	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/daemon"
)

// approverSecret is the HMAC secret the daemon and `custos approver` share.
var approverSecret = []byte("approval secret of the approver e2e test")

// approverStack is `custos approver` in process: the approval route and the
// console on one real listener, its own SQLite store and audit log.
type approverStack struct {
	svc    *approver.Service
	store  approver.Store
	origin string
	log    *audit.Log
}

func newApprover(t *testing.T, rules string, operators ...string) *approverStack {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := approversqlite.Open(ctx, filepath.Join(dir, "approver.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lg, err := audit.Open(filepath.Join(dir, "audit.log"), audit.Options{Actor: "approver"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	rs, err := approver.ReadRules(strings.NewReader(rules))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := approver.New(approver.Config{Store: st, Rules: rs, Secret: approverSecret, Audit: lg, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	// localhost, not 127.0.0.1: a passkey's relying party id is a domain.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://localhost:" + portOf(ln.Addr())
	console, err := approver.NewConsole(approver.ConsoleConfig{Service: svc, Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(console.Handler())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	for _, op := range operators {
		if _, err := approver.AddOperator(ctx, st, op, "", nil, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return &approverStack{svc: svc, store: st, origin: origin, log: lg}
}

func portOf(a net.Addr) string { return strconv.Itoa(a.(*net.TCPAddr).Port) }

// daemonRun returns a daemon run asking the approver (protocol v2).
func (a *approverStack) daemonRun(t *testing.T, s *stack) func() daemon.Summary {
	return func() daemon.Summary {
		t.Helper()
		ap, err := daemon.NewApprover(daemon.ApproverConfig{URL: a.origin + "/approval", Secret: approverSecret})
		if err != nil {
			t.Fatal(err)
		}
		d := s.newDaemon(s.client(), func(c *daemon.Config) { c.Approval = ap })
		defer d.Close()
		sum, err := d.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
}

const twoAboveThousand = `{"rules":[{"name":"large","atLeast":"1000","approvals":2}]}`

// A transfer above the threshold waits for two operators: one approval is
// not enough, the second lets the daemon sign, and the transfer is mined.
func TestApproverTwoApprovalsOnTheDevChain(t *testing.T) {
	s, w, id, payee := queueOne(t)
	a := newApprover(t, twoAboveThousand, "alice", "bob")
	run := a.daemonRun(t, s)
	ctx := context.Background()

	if sum := run(); sum.Rejected != 1 || sum.Signed != 0 {
		t.Fatalf("before any decision: %+v", sum)
	}
	tx, err := a.store.Tx(ctx, id)
	if err != nil || tx.Request.Intent.Transfers[0].Amount != "5000" ||
		!strings.EqualFold(tx.Request.Intent.Transfers[0].To, payee.Hex()) {
		t.Fatalf("the approver holds %+v %v, want 5000 wei to %s", tx.Request.Intent, err, payee.Hex())
	}
	// The API named the queuing key, the daemon passed it on: an operator
	// holding that key cannot approve.
	if q := tx.Request.QueuedBy; q == nil || q.APIKeyID != s.tenant {
		t.Fatalf("queuedBy %+v, want the API key %s", q, s.tenant)
	}
	if _, err := approver.AddOperator(ctx, a.store, "carol", "", []string{s.tenant}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Decide(ctx, "carol", id, approval.Approve, ""); !errors.Is(err, approver.ErrOwnTransaction) {
		t.Fatalf("the key's holder approved: %v", err)
	}
	if _, err := a.svc.Decide(ctx, "alice", id, approval.Approve, ""); err != nil {
		t.Fatal(err)
	}
	if sum := run(); sum.Rejected != 1 || sum.Signed != 0 {
		t.Fatalf("after one approval: %+v", sum)
	}
	s.nothingSigned(id, w)
	if _, err := a.svc.Decide(ctx, "bob", id, approval.Approve, ""); err != nil {
		t.Fatal(err)
	}
	if sum := run(); sum.Signed != 1 || sum.Submitted != 1 {
		t.Fatalf("after two approvals: %+v", sum)
	}
	got := s.get(id)
	if r := s.receipt(ctx, common.HexToHash(got.TxID)); r.Status != 1 || s.balance(payee).Int64() != 5_000 {
		t.Fatalf("mined: status %d, payee %s", r.Status, s.balance(payee))
	}
}

// A rejection with a reason ends the transaction refused, with the reason
// reported to the API, and nothing signed.
func TestApproverRejectionOnTheDevChain(t *testing.T) {
	s, w, id, _ := queueOne(t)
	a := newApprover(t, twoAboveThousand, "alice", "bob")
	run := a.daemonRun(t, s)
	if sum := run(); sum.Rejected != 1 {
		t.Fatalf("first ask: %+v", sum)
	}
	if _, err := a.svc.Decide(context.Background(), "bob", id, approval.Refuse, "unknown payee"); err != nil {
		t.Fatal(err)
	}
	if sum := run(); sum.Signed != 0 {
		t.Fatalf("after the rejection: %+v", sum)
	}
	assertRefused(t, s, id, "refused by the approval service: refused by bob: unknown payee")
	s.nothingSigned(id, w)
	if sum := run(); sum != (daemon.Summary{}) {
		t.Fatalf("a refused transaction came back: %+v", sum)
	}
}

// assertRefused checks the API shows id failed with the reason want.
func assertRefused(t *testing.T, s *stack, id, want string) {
	t.Helper()
	var refused struct {
		TxID, Error string
	}
	if code := s.apiDo(http.MethodGet, "/v3/kms/"+id, nil, &refused); code != http.StatusOK || refused.TxID != "" || refused.Error != want {
		t.Fatalf("GET the refused transaction: %d %+v, want error %q", code, refused, want)
	}
}
