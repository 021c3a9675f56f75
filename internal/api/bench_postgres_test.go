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
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/postgres"
	"github.com/custoskms/custos/internal/pending/postgres/pgtest"
)

// The pending-query benchmark on PostgreSQL, the same data set as the SQLite
// one (bench_test.go): 100,000 pending ETH transactions, a pool of 1,000,000
// signature IDs, the first N of them asked for. The schema is built once per
// process in a schema of the CUSTOS_TEST_POSTGRES server.
var pgBench struct {
	once   sync.Once
	srv    *Server
	key    string
	err    error
	counts map[string]int
}

func pgBenchServer(b *testing.B) *Server {
	pgtest.ServerURL(b) // skips (or fails under CI) without a server
	pgBench.once.Do(func() {
		url := pgtest.CreateSchema(b)
		start := time.Now()
		ctx := context.Background()
		st, err := postgres.Open(ctx, url)
		if err != nil {
			pgBench.err = err
			return
		}
		secret, hash, _ := NewAPIKey()
		k, err := st.CreateKey(ctx, "bench", false, hash)
		if err != nil {
			pgBench.err = err
			return
		}
		rng := rand.New(rand.NewPCG(1, 2))
		pgBench.counts = map[string]int{}
		txs := make([]pending.NewTx, 0, benchStored)
		for i := range benchStored {
			h := poolID(rng.IntN(benchPool))
			pgBench.counts[h]++
			txs = append(txs, pending.NewTx{Chain: "ETH", Hashes: []string{h},
				SerializedTransaction: fmt.Sprintf(`{"to":"0x%040x","amount":"0.%d","nonce":%d}`, i, i, i)})
		}
		for chunk := range slices.Chunk(txs, 10_000) {
			if _, err := st.Create(ctx, k.ID, chunk...); err != nil {
				pgBench.err = err
				return
			}
		}
		pgBench.srv = New(Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		pgBench.key = secret
		fmt.Fprintf(os.Stderr, "postgres bench setup: %d transactions stored in %v\n", benchStored, time.Since(start).Round(time.Millisecond))
	})
	if pgBench.err != nil {
		b.Fatal(pgBench.err)
	}
	return pgBench.srv
}

func benchmarkPendingPostgres(b *testing.B, n int, claim bool) {
	srv := pgBenchServer(b)
	var body bytes.Buffer
	body.WriteString(`{"signatureIds":[`)
	want := 0
	for i := range n {
		if i > 0 {
			body.WriteByte(',')
		}
		id := poolID(i)
		want += pgBench.counts[id]
		fmt.Fprintf(&body, "%q", id)
	}
	body.WriteString("]")
	if claim {
		// One signer renewing its own lease each time: the claim's full cost.
		body.WriteString(`,"signerId":"bench","leaseSeconds":60`)
	}
	body.WriteString("}")
	payload := body.Bytes()
	times := make([]time.Duration, 0, b.N)
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		req := httptest.NewRequest("POST", "/v3/kms/pending/ETH", bytes.NewReader(payload))
		req.Header.Set("X-API-Key", pgBench.key)
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

func BenchmarkPendingPostPostgres25k(b *testing.B)       { benchmarkPendingPostgres(b, 25_000, false) }
func BenchmarkPendingPostPostgres250k(b *testing.B)      { benchmarkPendingPostgres(b, 250_000, false) }
func BenchmarkPendingPostPostgres25kClaim(b *testing.B)  { benchmarkPendingPostgres(b, 25_000, true) }
func BenchmarkPendingPostPostgres250kClaim(b *testing.B) { benchmarkPendingPostgres(b, 250_000, true) }
