package tracker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/pending"
)

// A mined transaction short of its depth waits for the blocks it still
// needs at the pace the tracker saw the head move, within BaseDelay and
// MaxDelay; BaseDelay until the head was seen to move.
func TestDepthWaitFollowsThePace(t *testing.T) {
	tr := New(Config{BaseDelay: time.Second, MaxDelay: time.Minute})
	eth := netKey{"ETH", false}
	mined := func(block, confirmations uint64) broadcast.Outcome {
		return broadcast.Outcome{Progress: broadcast.Mined, BlockNumber: block, Confirmations: confirmations}
	}
	if got := tr.depthWait(eth, mined(100, 1), 12); got != time.Second {
		t.Fatalf("before any head: %v, want BaseDelay", got)
	}
	t0 := time.Now()
	tr.pace.observe(eth, 100, t0)
	if got := tr.depthWait(eth, mined(100, 1), 12); got != time.Second {
		t.Fatalf("one head seen: %v, want BaseDelay", got)
	}
	tr.pace.observe(eth, 110, t0.Add(20*time.Second)) // 2 s a block
	tr.pace.observe(eth, 105, t0.Add(30*time.Second)) // a lagging node: ignored
	for _, c := range []struct {
		confirmations, depth uint64
		want                 time.Duration
	}{
		{1, 12, 22 * time.Second}, // 11 blocks to go
		{11, 12, 2 * time.Second},
		{12, 13, 2 * time.Second},
		{1, 128, time.Minute}, // at most MaxDelay
	} {
		if got := tr.depthWait(eth, mined(100, c.confirmations), c.depth); got != c.want {
			t.Errorf("%d of %d confirmations: %v, want %v", c.confirmations, c.depth, got, c.want)
		}
	}
	if got := tr.depthWait(netKey{"ETH", true}, mined(100, 1), 12); got != time.Second {
		t.Errorf("another network: %v, want BaseDelay", got)
	}
	// Past a window of 64 blocks the estimate starts from the latest head,
	// so that it follows a chain that slowed down.
	tr.pace.observe(eth, 180, t0.Add(160*time.Second))
	tr.pace.observe(eth, 181, t0.Add(170*time.Second)) // now 10 s a block
	if per, _ := tr.pace.interval(eth); per != 10*time.Second {
		t.Errorf("interval after the window moved: %v, want 10s", per)
	}
}

// A transaction still in the pool is not asked about again before the
// next block can have come.
func TestPendingWaitsForTheNextBlock(t *testing.T) {
	node := &fakeNode{outcomes: map[string]broadcast.Outcome{"0xpending0": {Progress: broadcast.Pending}}}
	nodes := broadcast.NewNodes()
	nodes.Set("ETH", false, node)
	tr := New(Config{Nodes: nodes, BaseDelay: time.Second, MaxDelay: time.Minute})
	tracked := pending.Tracked{ID: "p", Chain: "ETH", TxID: "0xpending0"}
	if u := tr.check(t.Context(), tracked); u.RetryIn > time.Second {
		t.Fatalf("before the pace is known: RetryIn %v, want the backoff's at most BaseDelay", u.RetryIn)
	}
	t0 := time.Now()
	tr.pace.observe(netKey{"ETH", false}, 100, t0)
	tr.pace.observe(netKey{"ETH", false}, 101, t0.Add(12*time.Second))
	if u := tr.check(t.Context(), tracked); u.RetryIn != 12*time.Second {
		t.Fatalf("at 12 s a block: RetryIn %v, want 12s", u.RetryIn)
	}
}

// The first check's wait is each chain's block interval, the shorter one
// of its networks, at most MaxDelay; none for a chain whose head was not
// seen to move.
func TestSettleFollowsThePace(t *testing.T) {
	var p pace
	if got := p.settle(time.Minute); len(got) != 0 {
		t.Fatalf("no head seen: %v", got)
	}
	t0 := time.Now()
	p.observe(netKey{"ETH", false}, 100, t0)
	p.observe(netKey{"ETH", false}, 101, t0.Add(12*time.Second))
	p.observe(netKey{"ETH", true}, 100, t0)
	p.observe(netKey{"ETH", true}, 106, t0.Add(12*time.Second))
	p.observe(netKey{"BTC", false}, 100, t0)
	p.observe(netKey{"BTC", false}, 101, t0.Add(10*time.Minute))
	p.observe(netKey{"XRP", false}, 100, t0)
	got := p.settle(time.Minute)
	if len(got) != 2 || got["ETH"] != 2*time.Second || got["BTC"] != time.Minute {
		t.Fatalf("settle = %v, want ETH 2s (its testnet's pace), BTC 1m (MaxDelay), no XRP", got)
	}
}

// countingNode answers every look-up pending and counts them.
type countingNode struct{ lookups atomic.Int64 }

func (n *countingNode) Broadcast(context.Context, string) (string, error) { return "", nil }

func (n *countingNode) Lookup(context.Context, string, string) (broadcast.Outcome, error) {
	n.lookups.Add(1)
	return broadcast.Outcome{Progress: broadcast.Pending}, nil
}

// A transaction just broadcast is not looked up before BaseDelay (the pace
// unknown) or its chain's block interval (the pace known) has passed.
func TestFirstCheckWaitsForTheNextBlock(t *testing.T) {
	ctx := t.Context()
	for _, c := range []struct {
		name string
		base time.Duration
		per  time.Duration // the chain's learned block interval; 0: unknown
	}{
		{"BaseDelay", 400 * time.Millisecond, 0},
		{"block interval", time.Hour, 400 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := openStore(t)
			node := &countingNode{}
			nodes := broadcast.NewNodes()
			nodes.Set("ETH", false, node)
			id, err := store.Create(ctx, tenant, pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			tr := New(Config{Store: store, Nodes: nodes, Poll: 5 * time.Millisecond, BaseDelay: c.base, MaxDelay: 2 * time.Hour})
			if c.per > 0 {
				t0 := time.Now()
				tr.pace.observe(netKey{"ETH", false}, 100, t0)
				tr.pace.observe(netKey{"ETH", false}, 110, t0.Add(10*c.per))
			}
			if err := store.Complete(ctx, tenant, id[0], "0xfirst000"); err != nil {
				t.Fatal(err)
			}
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); tr.Run(runCtx) }()
			defer func() { cancel(); <-done }()
			time.Sleep(150 * time.Millisecond)
			if n := node.lookups.Load(); n != 0 {
				t.Fatalf("looked up %d times within 150 ms of the broadcast", n)
			}
			deadline := time.Now().Add(5 * time.Second)
			for node.lookups.Load() == 0 {
				if time.Now().After(deadline) {
					t.Fatal("never looked up")
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}
