package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/sqlite"
)

// The pending-query benchmark: 100,000 pending ETH transactions of one tenant,
// each with one hash drawn from a pool of 1,000,000 signature IDs; a signer
// asks with the first N IDs of the pool, so about N/10 transactions match.
// The database is built once per process (only when a benchmark runs).
const (
	benchStored = 100_000
	benchPool   = 1_000_000
)

var bench struct {
	once   sync.Once
	dir    string
	srv    *Server
	key    string
	err    error
	counts map[string]int // signature ID → stored transactions with it
}

func poolID(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i*7919) }

func benchServer(b *testing.B) *Server {
	bench.once.Do(func() {
		start := time.Now()
		ctx := context.Background()
		bench.dir, bench.err = os.MkdirTemp("", "custos-bench-")
		if bench.err != nil {
			return
		}
		st, err := sqlite.Open(ctx, filepath.Join(bench.dir, "pending.db"))
		if err != nil {
			bench.err = err
			return
		}
		secret, hash, _ := NewAPIKey()
		k, err := st.CreateKey(ctx, "bench", false, hash)
		if err != nil {
			bench.err = err
			return
		}
		rng := rand.New(rand.NewPCG(1, 2))
		bench.counts = map[string]int{}
		txs := make([]pending.NewTx, 0, benchStored)
		for i := range benchStored {
			h := poolID(rng.IntN(benchPool))
			bench.counts[h]++
			txs = append(txs, pending.NewTx{Chain: "ETH", Hashes: []string{h},
				SerializedTransaction: fmt.Sprintf(`{"to":"0x%040x","amount":"0.%d","nonce":%d}`, i, i, i)})
		}
		if _, err := st.Create(ctx, k.ID, txs...); err != nil {
			bench.err = err
			return
		}
		bench.srv = New(Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		bench.key = secret
		fmt.Fprintf(os.Stderr, "bench setup: %d transactions stored in %v\n", benchStored, time.Since(start).Round(time.Millisecond))
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.srv
}

func benchmarkPending(b *testing.B, n int) {
	srv := benchServer(b)
	var body bytes.Buffer
	body.WriteString(`{"signatureIds":[`)
	want := 0
	for i := range n {
		if i > 0 {
			body.WriteByte(',')
		}
		id := poolID(i)
		want += bench.counts[id]
		fmt.Fprintf(&body, "%q", id)
	}
	body.WriteString("]}")
	payload := body.Bytes()
	times := make([]time.Duration, 0, b.N)
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		req := httptest.NewRequest("POST", "/v3/kms/pending/ETH", bytes.NewReader(payload))
		req.Header.Set("X-API-Key", bench.key)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		times = append(times, time.Since(start))
		if w.Code != 200 {
			b.Fatalf("status %d: %.200s", w.Code, w.Body.Bytes())
		}
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(want), "matches")
}

func BenchmarkPendingPost25k(b *testing.B)  { benchmarkPending(b, 25_000) }
func BenchmarkPendingPost250k(b *testing.B) { benchmarkPending(b, 250_000) }
