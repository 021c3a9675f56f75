package replicas

import (
	"testing"
	"time"
)

// BenchmarkEndToEnd measures the throughput of the whole deployment on
// PostgreSQL: one `custos serve` replica and 1 or 2 `custos daemon`
// processes (period 1 s, lease 60 s) already running; 1,000 EVM transfers
// (each from its own wallet) are queued through POST /v3/kms and the clock
// stops when none is pending — each signed, recorded in a ledger, broadcast
// to the dev chain through the API and completed. tx/s is reported.
func BenchmarkEndToEnd1Daemon(b *testing.B)  { benchmarkEndToEnd(b, 1) }
func BenchmarkEndToEnd2Daemons(b *testing.B) { benchmarkEndToEnd(b, 2) }

func benchmarkEndToEnd(b *testing.B, daemons int) {
	const n = 1000
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		c := newCluster(b, n)
		c.startReplica()
		for range daemons {
			c.startDaemon(60)
		}
		time.Sleep(2 * time.Second) // the daemons have unlocked their wallet store
		b.StartTimer()
		start := time.Now()
		c.queue(c.wallets)
		c.waitFor("every transaction completed", 120*time.Second, func() bool { p, done, _ := c.counts(); return p == 0 && done == n })
		total += time.Since(start)
		b.StopTimer()
		c.stopAll()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "tx/s")
}
