package webhook

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/postgres"
	"github.com/custoskms/custos/internal/pending/postgres/pgtest"
	"github.com/custoskms/custos/internal/pending/sqlite"
)

const benchTenant = "bbbbbbbbbbbbbbbbbbbbbbbb"

// benchStores open an empty store of each kind; PostgreSQL needs
// CUSTOS_TEST_POSTGRES (scripts/setup.d/postgres.sh starts a server).
var benchStores = []struct {
	name string
	open func(b *testing.B) pending.Store
}{
	{"sqlite", func(b *testing.B) pending.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "custos.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(b *testing.B) pending.Store {
		s, err := postgres.Open(context.Background(), pgtest.NewSchema(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}},
}

// BenchmarkDeliveryThroughput: 2,000 KMS_COMPLETED_TX events wait in the
// outbox; one worker with the default settings (8 in flight) delivers them
// to a receiver on loopback that answers 200 at once. The clock runs from
// the worker's start to the receiver's 2,000th event; deliveries/s is
// reported. Each delivery is a claim, a signed POST and its recording.
func BenchmarkDeliveryThroughput(b *testing.B) {
	const n = 2000
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			rcv := newBenchReceiver(b, s, n)
			var total time.Duration
			for b.Loop() {
				b.StopTimer()
				rcv.reset()
				for range n {
					rcv.change(b)
				}
				b.StartTimer()
				start := time.Now()
				stop := runWorker(s)
				<-rcv.done
				total += time.Since(start)
				b.StopTimer()
				stop()
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "deliveries/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkDeliveryLatency: the worker runs with the default settings while
// 2,000 transactions are completed at a steady 500 per second; the latency
// of each event runs from just before the Complete that writes it to its
// arrival at the receiver. p50 and p99 in milliseconds are reported.
func BenchmarkDeliveryLatency(b *testing.B) {
	const (
		n    = 2000
		rate = 500
	)
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			rcv := newBenchReceiver(b, s, n)
			var lat []time.Duration
			for b.Loop() {
				rcv.reset()
				stop := runWorker(s)
				tick := time.NewTicker(time.Second / rate)
				changed := make([]time.Time, 0, n)
				for range n {
					<-tick.C
					changed = append(changed, rcv.change(b))
				}
				tick.Stop()
				<-rcv.done
				stop()
				for i, at := range rcv.arrivals() {
					lat = append(lat, at.Sub(changed[i]))
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2])/1e6, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100])/1e6, "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// runWorker runs a worker on s with the default settings; stop ends it and
// waits for its deliveries in flight.
func runWorker(s pending.Store) (stop func()) {
	w := New(Config{Store: s, Guard: Guard{AllowLoopback: true}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	return func() { cancel(); <-done }
}

// benchReceiver is a receiver on loopback subscribed to KMS_COMPLETED_TX:
// change completes one more transaction, and the receiver notes when each
// one's event arrives, closing done when the n-th of a round has.
type benchReceiver struct {
	s   pending.Store
	n   int
	url string

	mu      sync.Mutex
	ids     []string // the round's transactions, in the order they changed
	arrived map[string]time.Time
	done    chan struct{}
}

func newBenchReceiver(b *testing.B, s pending.Store, n int) *benchReceiver {
	r := &benchReceiver{s: s, n: n}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		at := time.Now()
		// The body starts {"signatureId":"<24 characters>".
		id := string(body[len(`{"signatureId":"`):][:24])
		r.mu.Lock()
		if _, ok := r.arrived[id]; !ok {
			r.arrived[id] = at
			if len(r.arrived) == r.n {
				close(r.done)
			}
		}
		r.mu.Unlock()
	}))
	b.Cleanup(srv.Close)
	r.url = srv.URL
	if _, err := s.CreateSubscription(context.Background(), benchTenant, pending.EventCompleted, srv.URL); err != nil {
		b.Fatal(err)
	}
	return r
}

func (r *benchReceiver) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids, r.arrived, r.done = nil, map[string]time.Time{}, make(chan struct{})
}

// change creates and completes a transaction, whose event enters the
// outbox, and returns the moment just before the Complete.
func (r *benchReceiver) change(b *testing.B) time.Time {
	ctx := context.Background()
	ids, err := r.s.Create(ctx, benchTenant, pending.NewTx{Chain: "ETH", SerializedTransaction: `{"n":1}`,
		Hashes: []string{"00000000-0000-4000-8000-000000000001"}})
	if err != nil {
		b.Fatal(err)
	}
	r.mu.Lock()
	r.ids = append(r.ids, ids[0])
	seq := len(r.ids)
	r.mu.Unlock()
	at := time.Now()
	if err := r.s.Complete(ctx, benchTenant, ids[0], fmt.Sprintf("0x%064x", seq)); err != nil {
		b.Fatal(err)
	}
	return at
}

// arrivals are the round's arrival times in the order the transactions changed.
func (r *benchReceiver) arrivals() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]time.Time, len(r.ids))
	for i, id := range r.ids {
		out[i] = r.arrived[id]
	}
	return out
}
