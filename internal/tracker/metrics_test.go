package tracker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/pending"
)

// Final states are counted by chain and state; the transactions still in
// flight are reported per chain with the age of the oldest, counted from
// its first check, until they are final, untrackable or long unseen.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	node := &fakeNode{outcomes: map[string]broadcast.Outcome{
		"0xdeep0000": {Progress: broadcast.Mined, BlockNumber: 9, Confirmations: 3},
		"0xdropped0": {Progress: broadcast.Dropped, Error: "nonce 1 was taken"},
		"0xpending0": {Progress: broadcast.Pending},
		"0xpending1": {Progress: broadcast.Pending},
	}}
	nodes := broadcast.NewNodes()
	nodes.Set("ETH", false, node)
	nodes.Set("XLM", false, plainNode{})
	for txID, chain := range map[string]string{"0xdeep0000": "ETH", "0xdropped0": "ETH", "0xpending0": "ETH", "0xpending1": "ETH", "0xstellar0": "XLM"} {
		id, err := store.Create(ctx, tenant, pending.NewTx{Chain: chain, SerializedTransaction: "{}", Hashes: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Complete(ctx, tenant, id[0], txID); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	tr := New(Config{Store: store, Nodes: nodes, Depth: map[string]uint64{"ETH": 3}, Owner: "t",
		BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, Registry: reg})
	now := time.Unix(1_800_000_000, 0)
	tr.m.inFlight.now = func() time.Time { return now }
	claim := func() []pending.Tracked {
		c, err := store.ClaimTracking(ctx, pending.TrackClaim{Owner: "t", Lease: time.Minute, Max: 100})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, c := range claim() {
		tr.Check(ctx, c)
	}
	expect := func(want string) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
			"custos_tracker_outcomes_total", "custos_tracker_tracked", "custos_tracker_oldest_broadcast_seconds"); err != nil {
			t.Error(err)
		}
	}
	const outcomes = `
# HELP custos_tracker_outcomes_total Final states the tracker recorded, by chain and state (confirmed, failed, dropped, replaced).
# TYPE custos_tracker_outcomes_total counter
custos_tracker_outcomes_total{chain="ETH",state="confirmed"} 1
custos_tracker_outcomes_total{chain="ETH",state="dropped"} 1
`
	const help = `
# HELP custos_tracker_oldest_broadcast_seconds Age of the oldest broadcast transaction not yet final, by chain, counted from this replica's first check of it.
# TYPE custos_tracker_oldest_broadcast_seconds gauge
# HELP custos_tracker_tracked Broadcast transactions not yet final that this replica checked recently, by chain.
# TYPE custos_tracker_tracked gauge
`
	// The XLM node cannot follow its transaction: it is not reported.
	expect(outcomes + help + `
custos_tracker_oldest_broadcast_seconds{chain="ETH"} 0
custos_tracker_tracked{chain="ETH"} 2
`)

	// Checked again later, the two keep the time of their first check.
	now = now.Add(90 * time.Second)
	time.Sleep(5 * time.Millisecond) // past their 1ms wait
	again := claim()
	if len(again) != 2 {
		t.Fatalf("claimed %d again, want the 2 pending", len(again))
	}
	node.outcomes["0xpending1"] = broadcast.Outcome{Progress: broadcast.Mined, BlockNumber: 9, Confirmations: 3}
	for _, c := range again {
		tr.Check(ctx, c)
	}
	expect(strings.Replace(outcomes, `"confirmed"} 1`, `"confirmed"} 2`, 1) + help + `
custos_tracker_oldest_broadcast_seconds{chain="ETH"} 90
custos_tracker_tracked{chain="ETH"} 1
`)

	// Unseen for long (another replica's now, or final there): forgotten.
	now = now.Add(tr.m.inFlight.forget + time.Second)
	expect(strings.Replace(outcomes, `"confirmed"} 1`, `"confirmed"} 2`, 1))
}
