package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/httpguard"
)

// broadcastAll calls Broadcast for txs 1..n at once and returns each answer.
func broadcastAll(t *testing.T, c *Client, n int) ([]string, []error) {
	t.Helper()
	txIDs, errs := make([]string, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			txIDs[i], errs[i] = c.Broadcast(t.Context(), "ethereum", fmt.Sprintf("0xsigned%010d", i+1), txID(i+1))
		})
	}
	wg.Wait()
	return txIDs, errs
}

func queueN(f *fakeAPI, n int) {
	for i := range n {
		f.add(PendingTx{ID: txID(i + 1), Chain: "ETH", SerializedTransaction: "tx", Hashes: []string{sigPK}})
	}
}

// queued is how many broadcasts of slug wait for a batch.
func queued(c *Client, slug string) int {
	return c.batcher(slug).sender.Queued()
}

// Broadcasts arriving while batchSenders batches are in flight go together
// in the next batch request, each answered with its own txId.
func TestBroadcastsGoInBatches(t *testing.T) {
	const n = 100
	f := newFakeAPI(t)
	queueN(f, n)
	c := f.client()
	inFlight, release := make(chan struct{}, n), make(chan struct{})
	// Batches are held in flight until the last ones are queued.
	f.gate = func() { inFlight <- struct{}{}; <-release }
	txIDs, errs := make([]string, n), make([]error, n)
	var wg sync.WaitGroup
	broadcast := func(i int) {
		wg.Go(func() {
			txIDs[i], errs[i] = c.Broadcast(t.Context(), "ethereum", fmt.Sprintf("0xsigned%010d", i+1), txID(i+1))
		})
	}
	for i := range batchSenders {
		broadcast(i) // each goes at once, alone
		<-inFlight
	}
	for i := batchSenders; i < n; i++ {
		broadcast(i)
	}
	for deadline := time.Now().Add(10 * time.Second); queued(c, "ethereum") < n-batchSenders && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	left := queued(c, "ethereum")
	close(release)
	wg.Wait()
	if left != n-batchSenders {
		t.Fatalf("%d broadcasts waited behind the batches in flight, want %d", left, n-batchSenders)
	}
	for i := range n {
		if want := fmt.Sprintf("tx-%010d", i+1); errs[i] != nil || txIDs[i] != want {
			t.Fatalf("broadcast %d: %q, %v; want %q", i+1, txIDs[i], errs[i], want)
		}
	}
	singles, batches, sizes := f.requests()
	slices.Sort(sizes) // the held batches were let go together
	if singles != 0 || batches != batchSenders+1 || sizes[0] != 1 || sizes[batchSenders-1] != 1 || sizes[batchSenders] != n-batchSenders {
		t.Fatalf("%d single and %d batch requests of %v items; want %d of one item, then one of the %d others",
			singles, batches, sizes, batchSenders, n-batchSenders)
	}
}

// A broadcast arriving when no batch is in flight is sent at once, alone.
func TestLoneBroadcastIsNotHeld(t *testing.T) {
	f := newFakeAPI(t)
	queueN(f, 2)
	c := f.client()
	for i := range 2 {
		start := time.Now()
		if _, err := c.Broadcast(t.Context(), "ethereum", "0xsigned", txID(i+1)); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("a lone broadcast took %v", took)
		}
	}
	if _, batches, sizes := f.requests(); batches != 2 || sizes[0] != 1 || sizes[1] != 1 {
		t.Fatalf("%d batch requests of %v items; want two of one", batches, sizes)
	}
}

// Each item's error is the one the single route would have answered: the
// same text, status and code (TxFailed ends a transaction), and a
// temporary one is tried again as often.
func TestBatchItemErrorsAreTheSingleRoutes(t *testing.T) {
	const n = 5
	fail := func(id string) int {
		return map[string]int{txID(2): 403, txID(3): 502, txID(4): 429}[id]
	}
	answers := func(single bool) ([]string, []error, []int) {
		f := newFakeAPI(t)
		queueN(f, n-1) // txID(n) is unknown to the API
		f.failBroadcast = fail
		f.endBroadcast = func(id string) bool { return id == txID(1) }
		c := f.client()
		c.SingleBroadcasts = single
		txIDs, errs := broadcastAll(t, c, n)
		tries := make([]int, n)
		for i := range n {
			tries[i] = len(f.submitted(txID(i + 1)))
		}
		if singles, batches, _ := f.requests(); single && batches != 0 || !single && singles != 0 {
			t.Fatalf("single %v: %d single and %d batch requests", single, singles, batches)
		}
		return txIDs, errs, tries
	}
	ids1, errs1, tries1 := answers(true)
	idsN, errsN, triesN := answers(false)
	for i := range n {
		var he1, heN *HTTPError
		if !errors.As(errs1[i], &he1) || !errors.As(errsN[i], &heN) {
			t.Fatalf("tx %d: %v / %v, want HTTP errors", i+1, errs1[i], errsN[i])
		}
		if *he1 != *heN || errs1[i].Error() != errsN[i].Error() || ids1[i] != idsN[i] || tries1[i] != triesN[i] {
			t.Fatalf("tx %d: single %q %+v (%d tries), batched %q %+v (%d tries)", i+1, ids1[i], *he1, tries1[i], idsN[i], *heN, triesN[i])
		}
	}
	if he, ok := errsN[0].(*HTTPError); !ok || !he.TxFailed() {
		t.Fatalf("broadcast.failed is not TxFailed: %v", errsN[0])
	}
	if triesN[2] != 5 || triesN[3] != 5 || triesN[1] != 1 {
		t.Fatalf("tries %v: want 5 for the temporary failures, 1 for the final ones", triesN)
	}
}

// An answer the client cannot trust for every item counts none as
// submitted: each gets the error of an unreadable answer.
func TestHostileBatchAnswers(t *testing.T) {
	const n = 3
	cases := map[string]func([]byte) []byte{
		"too few results": func(b []byte) []byte {
			return []byte(`{"results":[{"signatureId":"` + txID(1) + `","txId":"0x1","completed":true}]}`)
		},
		"extra result": func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `]}`, `,{"signatureId":"`+txID(9)+`","txId":"0x9","completed":true}]}`, 1))
		},
		"reordered": func(b []byte) []byte {
			s := strings.ReplaceAll(string(b), txID(1), "SWAP")
			s = strings.ReplaceAll(s, txID(2), txID(1))
			return []byte(strings.ReplaceAll(s, "SWAP", txID(2)))
		},
		"garbage":    func([]byte) []byte { return []byte(`<html>ok</html>`) },
		"no results": func([]byte) []byte { return []byte(`{}`) },
		"oversize": func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"completed"`, `"pad":"`+strings.Repeat("x", (n+1)*maxErrorBody)+`","completed"`, 1))
		},
	}
	for name, rewrite := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFakeAPI(t)
			queueN(f, n)
			f.rewriteBatch = rewrite
			group := make([]*broadcastCall, n)
			for i := range group {
				group[i] = &broadcastCall{ctx: t.Context(), txData: fmt.Sprintf("0xsigned%d", i), id: txID(i + 1), done: make(chan struct{})}
			}
			f.client().broadcastBatch("ethereum", group)
			for i, call := range group {
				<-call.done
				if call.err == nil || !errors.Is(call.err, errBadAnswer) && !errors.Is(call.err, httpguard.ErrTooLarge) {
					t.Fatalf("tx %d: %q, %v; want an unreadable answer's error", i+1, call.txID, call.err)
				}
			}
		})
	}
	// One item's result that is neither a completion nor an error fails that item alone.
	f := newFakeAPI(t)
	queueN(f, 2)
	f.rewriteBatch = func(b []byte) []byte {
		return []byte(strings.Replace(string(b), `"completed":true`, `"completed":false`, 1))
	}
	c := f.client()
	if _, err := c.Broadcast(t.Context(), "ethereum", "0xsigned", txID(1)); !errors.Is(err, errBadAnswer) {
		t.Fatalf("completed false: %v", err)
	}
	f.rewriteBatch = func(b []byte) []byte {
		return []byte(strings.Replace(string(b), `"txId"`, `"error":{"statusCode":200},"txId"`, 1))
	}
	if _, err := c.Broadcast(t.Context(), "ethereum", "0xsigned", txID(2)); !errors.Is(err, errBadAnswer) {
		t.Fatalf("an error of status 200: %v", err)
	}
}

// A daemon meeting a broken batch answer counts nothing as submitted: it
// reports the failures, and a later run submits the recorded transactions
// again (without signing them again).
func TestDaemonRetriesAfterHostileBatchAnswer(t *testing.T) {
	h := newHarness(t)
	for i := range 20 {
		h.api.add(PendingTx{ID: txID(i + 1), Chain: "ETH", SerializedTransaction: fmt.Sprintf("tx-%d", i), Hashes: []string{sigPK}})
	}
	h.api.rewriteBatch = func([]byte) []byte { return []byte(`{"results":[]}`) }
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	d := h.daemon(func(c *Config) { c.Concurrency, c.Now = 64, clock.now })
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Signed != 20 || sum.Submitted != 0 || sum.Failed != 20 {
		t.Fatalf("broken answers: %+v, want 20 signed, none submitted, 20 failed", sum)
	}
	if n := len(h.api.errorsReported()); n != 20 {
		t.Fatalf("%d failures reported, want 20", n)
	}
	// The API did not take them after all: the next run submits each again.
	h.api.mu.Lock()
	for _, tx := range h.api.txs {
		tx.completed = ""
	}
	h.api.rewriteBatch = nil
	h.api.mu.Unlock()
	clock.t = clock.t.Add(time.Hour) // past the retry wait
	if sum, err = d.RunOnce(t.Context()); err != nil || sum.Resubmitted != 20 || sum.Failed != 0 {
		t.Fatalf("next run: %+v, %v; want 20 submitted again from the ledger", sum, err)
	}
	if h.chain.calls.Load() != 20 {
		t.Fatalf("%d signatures for 20 transactions", h.chain.calls.Load())
	}
	if singles, batches, _ := h.api.requests(); singles != 0 || batches >= 40 {
		t.Fatalf("%d single and %d batch requests for 40 broadcasts", singles, batches)
	}
}

// An API without the batch route (404 or 405) is asked once (or by each
// batch already in flight); every broadcast, those ones' included, then
// goes on the single route.
func TestBatchRouteFallback(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusMethodNotAllowed} {
		const n = 30
		f := newFakeAPI(t)
		queueN(f, n+1)
		f.noBatchRoute = status
		c := f.client()
		txIDs, errs := broadcastAll(t, c, n)
		for i := range n {
			if errs[i] != nil || txIDs[i] == "" {
				t.Fatalf("HTTP %d: broadcast %d: %q, %v", status, i+1, txIDs[i], errs[i])
			}
		}
		if _, err := c.Broadcast(t.Context(), "ethereum", "0xsigned", txID(n+1)); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		asks, singles := f.batchAsks, f.singles
		f.mu.Unlock()
		if asks < 1 || asks > batchSenders || singles != n+1 {
			t.Fatalf("HTTP %d: %d batch requests, %d single ones; want 1 to %d and %d", status, asks, singles, batchSenders, n+1)
		}
	}
}

// BenchmarkBroadcast measures the client side of submitting: 64 goroutines
// (the daemon's default concurrency) broadcast signed transactions of ETH's
// size to a lean in-process API that only decodes and answers, one request
// per transaction (single) or gathered (batch). cpu-ms/op is the process's
// CPU per transaction, the lean API's included. The "wait" variants have
// the API wait 300 µs per transaction, as a real one waits for its store
// and the node: a batch's items are taken in order, so the batch's wait is
// their sum, and how many batches are in flight (batchSenders) decides the
// throughput (ns/op).
func BenchmarkBroadcast(b *testing.B) {
	txData := "0x" + strings.Repeat("ab", 115) // an EIP-1559 transfer
	var itemWait time.Duration
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/{slug}/broadcast", func(w http.ResponseWriter, r *http.Request) {
		var in batchItem
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			w.WriteHeader(400)
			return
		}
		time.Sleep(itemWait)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(batchResult{TxID: "0x" + strings.Repeat("cd", 32), Completed: true})
	})
	mux.HandleFunc("POST /v3/{slug}/broadcast/batch", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Transactions []batchItem `json:"transactions"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			w.WriteHeader(400)
			return
		}
		out := struct {
			Results []batchResult `json:"results"`
		}{make([]batchResult, len(in.Transactions))}
		for i, t := range in.Transactions {
			time.Sleep(itemWait)
			out.Results[i] = batchResult{SignatureID: t.SignatureID, TxID: "0x" + strings.Repeat("cd", 32), Completed: true}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, wait := range []time.Duration{0, 300 * time.Microsecond} {
		for _, single := range []bool{true, false} {
			name := map[bool]string{true: "single", false: "batch"}[single]
			if wait > 0 {
				name += "-wait"
			}
			itemWait = wait
			b.Run(name, func(b *testing.B) {
				c, err := NewClient(srv.URL, testAPIKey)
				if err != nil {
					b.Fatal(err)
				}
				c.SingleBroadcasts = single
				var next atomic.Int64
				cpu0 := cpuTime()
				b.ResetTimer()
				var wg sync.WaitGroup
				for range 64 {
					wg.Go(func() {
						for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
							if _, err := c.Broadcast(b.Context(), "ethereum", txData, txID(int(n))); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A batch the API refuses as too large (413) goes one transaction per
// request, and the next broadcasts are gathered again: the route exists.
func TestBatchTooLargeGoesSingly(t *testing.T) {
	f := newFakeAPI(t)
	queueN(f, 2)
	f.noBatchRoute = http.StatusRequestEntityTooLarge
	c := f.client()
	for i := range 2 {
		if txID, err := c.Broadcast(t.Context(), "ethereum", "0xsigned", txID(i+1)); err != nil || txID == "" {
			t.Fatalf("broadcast %d: %q, %v", i+1, txID, err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.batchAsks != 2 || f.singles != 2 {
		t.Fatalf("%d batch requests, %d single ones; want 2 and 2", f.batchAsks, f.singles)
	}
}
