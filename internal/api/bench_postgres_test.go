package api

import (
	"context"
	"testing"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/postgres"
	"github.com/custoskms/custos/internal/pending/postgres/pgtest"
)

// The pending-query benchmark on PostgreSQL: the data set of bench_test.go in
// a schema of the CUSTOS_TEST_POSTGRES server, built once per process.
var pgBench benchData

func benchmarkPendingPostgres(b *testing.B, n int, claim bool) {
	pgtest.ServerURL(b) // skips (or fails under CI) without a server
	srv := pgBench.server(b, "postgres", func(ctx context.Context) (pending.Store, error) {
		return postgres.Open(ctx, pgtest.CreateSchema(b))
	})
	benchmarkPendingOn(b, &pgBench, srv, n, claim)
}

func BenchmarkPendingPostPostgres25k(b *testing.B)       { benchmarkPendingPostgres(b, 25_000, false) }
func BenchmarkPendingPostPostgres250k(b *testing.B)      { benchmarkPendingPostgres(b, 250_000, false) }
func BenchmarkPendingPostPostgres25kClaim(b *testing.B)  { benchmarkPendingPostgres(b, 25_000, true) }
func BenchmarkPendingPostPostgres250kClaim(b *testing.B) { benchmarkPendingPostgres(b, 250_000, true) }
