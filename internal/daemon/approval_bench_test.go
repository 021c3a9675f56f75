package daemon

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/audit"
)

// roundTrip is an http.RoundTripper from a function.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// ethSubject is subject n shaped as the process benchmark's ETH transfers:
// a JSON transaction, one signer, one transfer, a fee and a nonce.
func ethSubject(n int) Subject {
	idx := uint32(n)
	nonce := uint64(n)
	to := fmt.Sprintf("0x%040x", 0xabc000+n)
	return Subject{
		Tx: PendingTx{ID: fmt.Sprintf("65f1c0de%016d", n), Chain: "ETH", Hashes: []string{"5e7a2f4c-6a1b-4d2e-9c3f-8b1a2d3e4f50"}, Index: &idx,
			SerializedTransaction: fmt.Sprintf(`{"to":"%s","value":"1000000000000000","gasPrice":"20000000000","gas":"21000","nonce":%d,"chainId":1337}`, to, n),
			QueuedBy:              "key-7"},
		Intent: intent.Intent{Chain: "ETH", Network: "testnet", ChainID: "1337", Signers: []string{"0x52908400098527886e0f7030069857d2e4169ee7"},
			Transfers: []intent.Transfer{{To: to, Amount: "1000000000000000", Asset: "ETH"}},
			Fee:       &intent.Fee{Max: "420000000000000", GasPrice: "20000000000", GasLimit: "21000", Asset: "ETH"},
			Sequence:  &nonce},
		Indexes: []uint32{idx}, Decoded: true,
	}
}

// BenchmarkApprovalBatch measures the daemon's side of one batch of 128
// approvals: each request's encoding, the batch's body and MAC, and the
// signed answer's reading and checks, as the approval batcher does them,
// against a transport that returns a service's answer written beforehand,
// so that no server's work is counted. Reported per approval.
func BenchmarkApprovalBatch(b *testing.B) {
	const n = approval.MaxBatch
	secret := []byte("benchmark secret")
	a, err := NewApprover(ApproverConfig{URL: "http://127.0.0.1:1/approve", Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	subjects := make([]Subject, n)
	reqs := make([]approval.Request, n)
	answers := make([]approval.Answer, n)
	now := time.Now()
	a.Now = func() time.Time { return now }
	for i := range subjects {
		subjects[i] = ethSubject(i)
		reqs[i] = v2Request(subjects[i], now)
		answers[i] = approval.Answer{Decision: approval.Approve}
	}
	rec := httptest.NewRecorder()
	if err := approval.RespondBatch(rec, secret, reqs, answers, now); err != nil {
		b.Fatal(err)
	}
	answer := rec.Body.Bytes()
	a.HTTP.Transport = roundTrip(func(r *http.Request) (*http.Response, error) {
		_, _ = io.Copy(io.Discard, r.Body)
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(answer)), Request: r}, nil
	})
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU(b)
	for range b.N {
		group := make([]*asking, n)
		for i := range subjects {
			group[i] = newAsking(ctx, v2Request(subjects[i], now))
		}
		a.batch.send(group)
		for _, c := range group {
			if c.err != nil || c.resp.Decision != approval.Approve {
				b.Fatalf("%v %q", c.err, c.resp.Decision)
			}
		}
	}
	b.ReportMetric(float64((processCPU(b)-cpu).Microseconds())/float64(b.N*n), "cpu-µs/approval")
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkApprovalAudit measures the audit log's part of one approved
// transaction in the daemon: the policy's and the approval's decisions and
// the key use, appended together as the daemon appends them before
// signing, for 128 transactions at once into a log on disk. Reported as the
// process's CPU per transaction (the fsync's wait is not CPU).
func BenchmarkApprovalAudit(b *testing.B) {
	const n = approval.MaxBatch
	log, err := audit.Open(filepath.Join(b.TempDir(), "audit.log"), audit.Options{Actor: "daemon", User: "custos"})
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	d := &Daemon{cfg: Config{Audit: log}}
	subjects := make([]Subject, n)
	for i := range subjects {
		subjects[i] = ethSubject(i)
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU(b)
	for range b.N {
		var wg sync.WaitGroup
		for _, s := range subjects {
			wg.Add(1)
			go func() {
				defer wg.Done()
				decision, reason := approvalDecision(nil)
				if err := d.auditKeyUse(ctx, "ETH", s, policyEvent("ETH", s, nil), decisionEvent("ETH", "approval", s, decision, reason)); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64((processCPU(b)-cpu).Microseconds())/float64(b.N*n), "cpu-µs/tx")
}
