package approver_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/approver"
	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/daemon"
)

// BenchmarkDecisions is what the approver sustains for the daemon's own v2
// client with an auto-approve rule, as `custos approver serve` runs it: a
// SQLite file, the fsynced audit log, HTTP on loopback, each request a new
// transaction (stored, audited, settled, answered). The daemon asks from
// its workers in parallel, so the benchmark does too: "batch" as the
// daemon does by default (the requests asked meanwhile go together to
// {url}/batch), "single" against a service without the batch form, each
// request alone.
func BenchmarkDecisions(b *testing.B) {
	for _, batch := range []bool{false, true} {
		name := "single"
		if batch {
			name = "batch"
		}
		b.Run(name, func(b *testing.B) { benchDecisions(b, batch) })
	}
}

func benchDecisions(b *testing.B, batch bool) {
	log, err := audit.Open(filepath.Join(b.TempDir(), "audit.log"), audit.Options{Actor: "approver"})
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	f := newFixtureAudit(b, `{"rules": [{"name": "all", "approvals": 0}]}`, log)
	ask := f.ask
	if !batch {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/"+approval.BatchSegment) {
				http.NotFound(w, r)
				return
			}
			f.svc.ServeHTTP(w, r)
		}))
		defer srv.Close()
		if ask, err = daemon.NewApprover(daemon.ApproverConfig{URL: srv.URL + "/approval", Secret: secret}); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.SetParallelism(8) // 16 requests in flight on 2 cores, as a busy daemon's workers
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := ask.Approve(b.Context(), subject(fmt.Sprintf("%024d", n.Add(1)), "wallet-a", "5000")); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
	// CPU of both sides (the daemon's client and the approver) per
	// decision: steadier than the rate on a shared machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/decision")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkQueuePage renders the console's queue page (waiting, the
// default) with 10,000 transactions waiting, each with one approval of two,
// and reports the render time's median and 95th percentile.
func BenchmarkQueuePage(b *testing.B) {
	f := newFixture(b, `{"rules": [{"name": "two", "approvals": 2}]}`)
	c, err := approver.NewConsole(approver.ConsoleConfig{Service: f.svc, Origin: origin})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	now := time.Now()
	for i := range 10_000 {
		s := subject(fmt.Sprintf("%024d", i), "wallet-a", "5000")
		req := approval.Request{Version: approval.Version, ID: s.Tx.ID, Chain: s.Intent.Chain, Network: s.Intent.Network,
			SignatureIDs: []string{"wallet-a"}, Indexes: []uint32{0}, SerializedTransaction: s.Tx.SerializedTransaction,
			Digest: approval.Digest(s.Tx.SerializedTransaction), Intent: s.Intent, Timestamp: now.Unix()}
		if _, err := f.store.Record(ctx, req, approver.Need{Rule: "two", Approvals: 2}, nil, now.Add(time.Duration(i)*time.Millisecond)); err != nil {
			b.Fatal(err)
		}
		if _, err := f.store.Decide(ctx, approver.Decision{ID: req.ID, Digest: req.Digest, Operator: "alice", Decision: approval.Approve,
			At: now.Add(time.Duration(i) * time.Millisecond)}, nil); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := approver.AddOperator(ctx, f.store, "bob", "", nil, now); err != nil {
		b.Fatal(err)
	}
	cookie := "cookie-of-bob"
	h := hashOf(cookie)
	if err := f.store.CreateSession(ctx, approver.Session{Hash: h, Operator: "bob", CSRF: "x", CreatedAt: time.Now(), LastSeen: time.Now()}); err != nil {
		b.Fatal(err)
	}
	handler := c.Handler()
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		r := httptest.NewRequest("GET", "/queue", nil)
		r.AddCookie(&http.Cookie{Name: approver.SessionCookie, Value: cookie})
		rec := httptest.NewRecorder()
		start := time.Now()
		handler.ServeHTTP(rec, r)
		times = append(times, time.Since(start))
		if rec.Code != 200 {
			b.Fatalf("queue page %d", rec.Code)
		}
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
}

func hashOf(cookie string) []byte { h := sha256.Sum256([]byte(cookie)); return h[:] }

// BenchmarkBatchHandler is the approver's own work per decision, without
// HTTP or the daemon's client: batches of approval.MaxBatch v2 requests,
// signed as the daemon signs them, through the real Service with a SQLite
// store, the fsynced audit log and an auto-approve rule. Each batch holds
// new transactions (parsed, stored, audited, answered).
func BenchmarkBatchHandler(b *testing.B) {
	log, err := audit.Open(filepath.Join(b.TempDir(), "audit.log"), audit.Options{Actor: "approver"})
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	f := newFixtureAudit(b, `{"rules": [{"name": "all", "approvals": 0}]}`, log)
	target := approver.ApprovalPath + approval.BatchSegment
	n := 0
	var used time.Duration // the handler's CPU alone
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		reqs := make([]approval.Request, approval.MaxBatch)
		for i := range reqs {
			n++
			reqs[i] = requestOf(subject(fmt.Sprintf("%024d", n), "wallet-a", "5000"))
		}
		body, err := json.Marshal(approval.BatchRequest{Version: approval.Version, Requests: reqs})
		if err != nil {
			b.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		ts := strconv.FormatInt(reqs[0].Timestamp, 10)
		r.Header.Set(approval.HeaderTimestamp, ts)
		r.Header.Set(approval.HeaderSignature, approval.RequestMAC(secret, http.MethodPost, r.URL.RequestURI(), ts, body))
		w := httptest.NewRecorder()
		cpu := cpuTime()
		b.StartTimer()
		f.svc.ServeHTTP(w, r)
		b.StopTimer()
		used += cpuTime() - cpu
		if w.Code != http.StatusOK {
			b.Fatalf("batch answered %d: %s", w.Code, w.Body)
		}
		b.StartTimer()
	}
	b.StopTimer()
	decisions := float64(b.N * approval.MaxBatch)
	b.ReportMetric(float64(used.Microseconds())/decisions, "cpu-µs/decision")
	b.ReportMetric(decisions/b.Elapsed().Seconds(), "decisions/s")
}
