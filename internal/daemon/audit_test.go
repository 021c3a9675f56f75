package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/custoskms/custos/internal/audit"
)

func openAudit(t *testing.T, path string, opts audit.Options) *audit.Log {
	t.Helper()
	opts.Actor = "daemon"
	l, err := audit.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// auditEvents reads the log's entries as event type → entries.
func auditEvents(t *testing.T, path string) map[string][]audit.Entry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]audit.Entry{}
	for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\n'}) {
		e, err := audit.ParseLine(line)
		if err != nil {
			t.Fatal(err)
		}
		out[e.Event] = append(out[e.Event], e)
	}
	return out
}

// TestAuditLogOfARealRun runs the daemon through every kind of decision
// (approved, not approved, refused), signatures and a failure report, then
// checks the log verifies, holds each act, holds no secret, and stops
// verifying when any one entry is edited, removed or swapped.
func TestAuditLogOfARealRun(t *testing.T) {
	h := newHarness(t)
	secret := []byte("shared approval secret")
	as := newApprovalServer(t, secret, 200)
	path := filepath.Join(t.TempDir(), "audit.log")
	d := h.daemon(func(c *Config) {
		c.Approval = approver(t, as.srv.URL, "POST", secret)
		c.Audit = openAudit(t, path, audit.Options{})
	})
	run := func(status int, txs ...PendingTx) {
		t.Helper()
		as.mu.Lock()
		as.status = status
		as.mu.Unlock()
		for _, tx := range txs {
			h.api.add(tx)
		}
		if _, err := d.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	run(200, PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "tx-one", Hashes: []string{sigPK}},
		PendingTx{ID: txID(2), Chain: "ETH", SerializedTransaction: "tx-two", Hashes: []string{sigMn}, Index: u32(3)})
	run(500, PendingTx{ID: txID(3), Chain: "ETH", SerializedTransaction: "tx-three", Hashes: []string{sigPK}})
	run(403)                                                                                                 // txID(3) refused
	run(200, PendingTx{ID: txID(4), Chain: "ETH", SerializedTransaction: "bad-tx", Hashes: []string{sigPK}}) // sign fails

	rep, head, err := audit.VerifyFile(path, "")
	if err != nil || !head {
		t.Fatalf("verify: %+v head %v: %v", rep, head, err)
	}
	ev := auditEvents(t, path)
	decisions := map[string]string{}
	for _, e := range ev["tx.decision"] {
		decisions[e.Fields["id"].(string)] += e.Fields["decision"].(string) + " "
	}
	if decisions[txID(1)] != "approved " || decisions[txID(3)] != "not_approved refused " || decisions[txID(4)] != "approved " {
		t.Fatalf("decisions %v", decisions)
	}
	if len(ev["key.use"]) != 3 || len(ev["tx.signed"]) != 2 || len(ev["tx.reported"]) != 2 {
		t.Fatalf("key uses %d, signatures %d, reports %d", len(ev["key.use"]), len(ev["tx.signed"]), len(ev["tx.reported"]))
	}
	ku := ev["key.use"][0].Fields
	if ku["digest"] != digest(map[string]string{txID(1): "tx-one", txID(2): "tx-two"}[ku["id"].(string)]) {
		t.Fatalf("key use %v", ku)
	}
	for _, e := range ev["key.use"] {
		if e.Fields["id"] == txID(2) && (e.Fields["indexes"] == nil || e.Fields["signatureIds"].([]any)[0] != sigMn) {
			t.Fatalf("key use of a mnemonic wallet %v", e.Fields)
		}
	}
	b, _ := os.ReadFile(path)
	for _, s := range []string{testPK[2:], testMnemonic, "abandon", string(secret), testAPIKey} {
		if strings.Contains(string(b), s) {
			t.Fatalf("the audit log holds a secret (%q…)", s[:6])
		}
	}

	lines := bytes.SplitAfter(b, []byte{'\n'})
	lines = lines[:len(lines)-1]
	for name, change := range map[string]func([][]byte) [][]byte{
		"edited": func(ls [][]byte) [][]byte {
			ls[2] = bytes.Replace(ls[2], []byte(txID(1)), []byte(txID(9)), 1)
			ls[2] = bytes.Replace(ls[2], []byte(txID(2)), []byte(txID(9)), 1)
			return ls
		},
		"removed": func(ls [][]byte) [][]byte { return append(ls[:2:2], ls[3:]...) },
		"swapped": func(ls [][]byte) [][]byte { ls[2], ls[3] = ls[3], ls[2]; return ls },
	} {
		t.Run(name, func(t *testing.T) {
			ls := change(append([][]byte{}, lines...))
			bad := filepath.Join(t.TempDir(), "audit.log")
			if err := os.WriteFile(bad, bytes.Join(ls, nil), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := audit.Verify(bytes.NewReader(bytes.Join(ls, nil)), audit.VerifyOptions{})
			var be *audit.BrokenError
			if !errors.As(err, &be) || be.Line != 3 {
				t.Fatalf("verify of a log with an entry %s: %v", name, err)
			}
		})
	}
}

// failingAuditor fails the events of one type and passes the others to a log.
type failingAuditor struct {
	log  *audit.Log
	fail string
}

func (a failingAuditor) Append(ctx context.Context, events ...audit.Event) error {
	for _, e := range events {
		if e.Type == a.fail {
			return &os.PathError{Op: "write", Path: "audit.log", Err: syscall.ENOSPC}
		}
	}
	return a.log.Append(ctx, events...)
}

// assertNothingDone checks that no transaction was signed, submitted,
// recorded or reported, and that both are still pending.
func (h *harness) assertNothingDone(d *Daemon, sum Summary, signerCalls int64) {
	t := h.t
	t.Helper()
	if sum.Signed != 0 || sum.Submitted != 0 || h.chain.calls.Load() != signerCalls {
		t.Fatalf("summary %+v, signer calls %d (want %d)", sum, h.chain.calls.Load(), signerCalls)
	}
	// --run-once must not claim the failures were reported.
	if sum.Failed == 0 || sum.Unreported != sum.Failed {
		t.Fatalf("summary %+v: every failure is unreported", sum)
	}
	if len(h.api.received()) != 0 || len(h.api.errorsReported()) != 0 {
		t.Fatalf("submitted %d, reported %+v", len(h.api.received()), h.api.errorsReported())
	}
	if e, err := d.ledger.Lookup(t.Context(), []string{txID(1), txID(2)}); err != nil || len(e) != 0 {
		t.Fatalf("ledger %v %v", e, err)
	}
	if txs, err := h.api.client().Pending(t.Context(), "ETH", []string{sigPK, sigMn}, 0); err != nil || len(txs) != 2 {
		t.Fatalf("pending after the failure: %d %v", len(txs), err)
	}
	var m dto.Metric
	if err := d.m.auditFailures.WithLabelValues("ETH").Write(&m); err != nil || m.GetCounter().GetValue() < 2 {
		t.Fatalf("audit failures counted %v (%v)", m.GetCounter().GetValue(), err)
	}
}

// When the audit log cannot be written (a full disk, a read-only file
// system, a file that cannot be opened for writing) nothing is signed.
func TestNothingSignedWhenTheAuditLogFails(t *testing.T) {
	fullDisk := func(name string, flag int, perm os.FileMode) (audit.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		if err != nil {
			return nil, err
		}
		return enospcFile{f}, nil
	}
	openErr := func(errno syscall.Errno) func(string, int, os.FileMode) (audit.File, error) {
		return func(name string, _ int, _ os.FileMode) (audit.File, error) {
			return nil, &os.PathError{Op: "open", Path: name, Err: errno}
		}
	}
	for name, open := range map[string]func(string, int, os.FileMode) (audit.File, error){
		"disk full":             fullDisk,
		"read-only file system": openErr(syscall.EROFS),
		"permission denied":     openErr(syscall.EACCES),
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.queueThree()
			d := h.daemon(func(c *Config) {
				c.Audit = openAudit(t, filepath.Join(t.TempDir(), "audit.log"), audit.Options{OpenFile: open})
			})
			sum, err := d.RunOnce(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			h.assertNothingDone(d, sum, 0)
		})
	}
	// The log's path is a directory: no file there can be written (root
	// included, who writes to read-only directories).
	t.Run("not a writable file", func(t *testing.T) {
		h := newHarness(t)
		h.queueThree()
		path := filepath.Join(t.TempDir(), "audit.log")
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		d := h.daemon(func(c *Config) { c.Audit = openAudit(t, path, audit.Options{}) })
		sum, err := d.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		h.assertNothingDone(d, sum, 0)
	})
	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes to read-only directories; the cases above cover it")
		}
		h := newHarness(t)
		h.queueThree()
		dir := t.TempDir()
		l := openAudit(t, filepath.Join(dir, "audit.log"), audit.Options{})
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o700)
		d := h.daemon(func(c *Config) { c.Audit = l })
		sum, err := d.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		h.assertNothingDone(d, sum, 0)
	})
}

// Each entry gates its act: no approval without its decision recorded, no
// signature without the key use, no ledger record or submission without
// the signature.
func TestEachAuditEntryGatesItsAct(t *testing.T) {
	secret := []byte("s")
	for _, tc := range []struct {
		fail  string
		calls int64
	}{{"tx.decision", 0}, {"key.use", 0}, {"tx.signed", 2}} {
		t.Run(tc.fail, func(t *testing.T) {
			h := newHarness(t)
			h.queueThree()
			as := newApprovalServer(t, secret, 200)
			a := failingAuditor{log: openAudit(t, filepath.Join(t.TempDir(), "audit.log"), audit.Options{}), fail: tc.fail}
			d := h.daemon(func(c *Config) {
				c.Approval = approver(t, as.srv.URL, "GET", secret)
				c.Audit = a
			})
			sum, err := d.RunOnce(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			h.assertNothingDone(d, sum, tc.calls)
			if err := a.log.Append(t.Context(), audit.Event{Type: "end"}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := audit.VerifyFile(a.log.Path(), ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// enospcFile is a log file on a full disk.
type enospcFile struct{ *os.File }

func (f enospcFile) WriteAt([]byte, int64) (int, error) {
	return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

// recordingAuditor notes the event types of each append, then passes them on.
type recordingAuditor struct {
	log     *audit.Log
	mu      sync.Mutex
	appends [][]string
}

func (a *recordingAuditor) Append(ctx context.Context, events ...audit.Event) error {
	types := make([]string, len(events))
	for i, e := range events {
		types[i] = e.Type
		if e.Type == "tx.decision" {
			types[i] += ":" + e.Fields["step"].(string) + ":" + e.Fields["decision"].(string)
		}
	}
	a.mu.Lock()
	a.appends = append(a.appends, types)
	a.mu.Unlock()
	return a.log.Append(ctx, events...)
}

// Without an approval service, the policy's approval is written in the key
// use's append, before it; a refusal is written by itself, and so is an
// approval whose keys cannot be found (the transaction fails unsigned).
func TestPolicyApprovalWrittenWithTheKeyUse(t *testing.T) {
	h := newHarness(t)
	h.pay(1, "1000")
	h.pay(2, "1001")
	// A mnemonic wallet without an index: no key to sign with.
	h.api.add(PendingTx{ID: txID(3), Chain: "ETH", SerializedTransaction: "pay:5", Hashes: []string{sigMn}})
	_, mod := h.withPolicy(testPolicy(t, `{"maxAmount":{"":"1000"}}`))
	a := &recordingAuditor{log: openAudit(t, filepath.Join(t.TempDir(), "audit.log"), audit.Options{})}
	d := h.daemon(func(c *Config) { mod(c); c.Concurrency = 1; c.Audit = a })
	sum, err := d.RunOnce(t.Context())
	if err != nil || sum.Signed != 1 || sum.Submitted != 1 || sum.Failed != 1 {
		t.Fatalf("summary %+v %v", sum, err)
	}
	got := fmt.Sprint(a.appends)
	for _, want := range []string{"[tx.decision:policy:approved key.use]", "[tx.signed]", "[tx.decision:policy:refused]",
		"[tx.decision:policy:approved]"} {
		if !strings.Contains(got, want) {
			t.Fatalf("appends %s, want one of %s", got, want)
		}
	}
	if len(a.appends) != 5 { // the signed one's two, the refusal, the failure, the reports
		t.Fatalf("appends %s", got)
	}
}

// The approval service's approval is written the same way: in the key use's
// append, before it; a "not approved" answer on its own, before it is
// reported; an approval whose keys cannot be found still on its own.
func TestServiceApprovalWrittenWithTheKeyUse(t *testing.T) {
	h := newHarness(t)
	secret := []byte("shared approval secret")
	as := newApprovalServer(t, secret, 200)
	h.pay(1, "1000")
	// A mnemonic wallet without an index: no key to sign with.
	h.api.add(PendingTx{ID: txID(2), Chain: "ETH", SerializedTransaction: "pay:5", Hashes: []string{sigMn}})
	a := &recordingAuditor{log: openAudit(t, filepath.Join(t.TempDir(), "audit.log"), audit.Options{})}
	d := h.daemon(func(c *Config) { c.Approval = approver(t, as.srv.URL, "POST", secret); c.Concurrency = 1; c.Audit = a })
	sum, err := d.RunOnce(t.Context())
	if err != nil || sum.Signed != 1 || sum.Failed != 1 {
		t.Fatalf("summary %+v %v", sum, err)
	}
	got := fmt.Sprint(a.appends)
	for _, want := range []string{"[tx.decision:approval:approved key.use]", "[tx.signed]", "[tx.decision:approval:approved]"} {
		if !strings.Contains(got, want) {
			t.Fatalf("appends %s, want one of %s", got, want)
		}
	}

	as.mu.Lock()
	as.status = 500
	as.mu.Unlock()
	h.pay(3, "1002")
	a.mu.Lock()
	a.appends = nil
	a.mu.Unlock()
	if sum, err := d.RunOnce(t.Context()); err != nil || sum.Signed != 0 {
		t.Fatalf("summary %+v %v", sum, err)
	}
	if got := fmt.Sprint(a.appends); !strings.Contains(got, "[tx.decision:approval:not_approved]") || strings.Contains(got, "key.use") {
		t.Fatalf("appends %s: want the decision alone, no key use", got)
	}
}
