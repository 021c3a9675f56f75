package tracker

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/sqlite"
)

// fakeNode answers Lookup from a table by txID and counts broadcasts.
type fakeNode struct {
	outcomes   map[string]broadcast.Outcome
	broadcasts []string
}

func (n *fakeNode) Broadcast(_ context.Context, txData string) (string, error) {
	n.broadcasts = append(n.broadcasts, txData)
	return "", nil
}

func (n *fakeNode) Lookup(_ context.Context, txID, _ string) (broadcast.Outcome, error) {
	return n.outcomes[txID], nil
}

// plainNode broadcasts but cannot follow a transaction.
type plainNode struct{}

func (plainNode) Broadcast(context.Context, string) (string, error) { return "", nil }

const tenant = "aaaaaaaaaaaaaaaaaaaaaaaa"

// openStore is a pending store in a file of the test's own.
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func TestCheckRecordsEachOutcome(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	node := &fakeNode{outcomes: map[string]broadcast.Outcome{
		"0xshallow0": {Progress: broadcast.Mined, BlockNumber: 10, Confirmations: 2, Fee: "21000"},
		"0xdeep0000": {Progress: broadcast.Mined, BlockNumber: 9, Confirmations: 3, Fee: "21000"},
		"0xreverted": {Progress: broadcast.Mined, BlockNumber: 9, Confirmations: 3, Fee: "50000", Failed: true, Error: "receipt status 0"},
		"0xdropped0": {Progress: broadcast.Dropped, Error: "nonce 1 was taken"},
		"0xexpired0": {Progress: broadcast.Expired, Error: "LastLedgerSequence 500 passed"},
		"0xmissing0": {Progress: broadcast.Missing},
		"0xpending0": {Progress: broadcast.Pending},
	}}
	nodes := broadcast.NewNodes()
	nodes.Set("ETH", false, node)
	nodes.Set("XLM", false, plainNode{})
	want := map[string]struct {
		chain        string
		state        pending.State
		rebroadcasts int
		due          bool
	}{
		"0xshallow0": {"ETH", pending.StateBroadcast, 0, true},
		"0xdeep0000": {"ETH", pending.StateConfirmed, 0, false},
		"0xreverted": {"ETH", pending.StateFailed, 0, false},
		"0xdropped0": {"ETH", pending.StateDropped, 0, false},
		"0xexpired0": {"ETH", pending.StateExpired, 0, false},
		"0xmissing0": {"ETH", pending.StateBroadcast, 1, true},
		"0xpending0": {"ETH", pending.StateBroadcast, 0, true},
		"0xstellar0": {"XLM", pending.StateBroadcast, 0, false},
	}
	ids := map[string]string{}
	for txID, w := range want {
		id, err := store.Create(ctx, tenant, pending.NewTx{Chain: w.chain, SerializedTransaction: "{}", Hashes: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.SetTxData(ctx, tenant, id[0], "signed-"+txID); err != nil {
			t.Fatal(err)
		}
		if err := store.Complete(ctx, tenant, id[0], txID); err != nil {
			t.Fatal(err)
		}
		ids[txID] = id[0]
	}
	tr := New(Config{Store: store, Nodes: nodes, Depth: map[string]uint64{"ETH": 3}, Owner: "t", BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})
	claimed, err := store.ClaimTracking(ctx, pending.TrackClaim{Owner: "t", Lease: time.Minute, Max: 100})
	if err != nil || len(claimed) != len(want) {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	for _, c := range claimed {
		tr.Check(ctx, c)
	}
	for txID, w := range want {
		got, err := store.Get(ctx, tenant, ids[txID])
		if err != nil {
			t.Fatal(err)
		}
		if got.State != w.state || got.Outcome.Rebroadcasts != w.rebroadcasts {
			t.Errorf("%s: state %s, rebroadcasts %d; want %s, %d", txID, got.State, got.Outcome.Rebroadcasts, w.state, w.rebroadcasts)
		}
	}
	if got := node.broadcasts; len(got) != 1 || got[0] != "signed-0xmissing0" {
		t.Errorf("rebroadcasts %q, want the lost transaction's stored bytes", got)
	}
	if got, _ := store.Get(ctx, tenant, ids["0xexpired0"]); got.Outcome.Error != "LastLedgerSequence 500 passed" || got.Outcome.FinalAt == nil {
		t.Errorf("expired outcome %+v", got.Outcome)
	}
	if got, _ := store.Get(ctx, tenant, ids["0xreverted"]); got.Outcome.Fee != "50000" || got.Outcome.Error != "receipt status 0" ||
		got.Outcome.BlockNumber == nil || *got.Outcome.BlockNumber != 9 {
		t.Errorf("reverted outcome %+v", got.Outcome)
	}
	time.Sleep(20 * time.Millisecond)
	again, err := store.ClaimTracking(ctx, pending.TrackClaim{Owner: "t", Lease: time.Minute, Max: 100})
	if err != nil {
		t.Fatal(err)
	}
	due := map[string]bool{}
	for _, c := range again {
		due[c.TxID] = true
	}
	for txID, w := range want {
		if due[txID] != w.due {
			t.Errorf("%s due again: %v, want %v", txID, due[txID], w.due)
		}
	}
}

// TestRunChecksEveryClaim runs the loop with small claims and a few checks
// at a time until every transaction is confirmed, then stops it.
func TestRunChecksEveryClaim(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	node := &fakeNode{outcomes: map[string]broadcast.Outcome{}}
	nodes := broadcast.NewNodes()
	nodes.Set("ETH", false, node)
	var ids []string
	for i := range 30 {
		txID := "0xrun" + itoa(i)
		node.outcomes[txID] = broadcast.Outcome{Progress: broadcast.Mined, BlockNumber: 5, Confirmations: 1}
		id, err := store.Create(ctx, tenant, pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Complete(ctx, tenant, id[0], txID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id[0])
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(Config{Store: store, Nodes: nodes, Max: 7, Concurrency: 3, Poll: 5 * time.Millisecond}).Run(runCtx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range ids {
		for {
			tx, err := store.Get(ctx, tenant, id)
			if err != nil {
				t.Fatal(err)
			}
			if tx.State == pending.StateConfirmed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still %s", id, tx.State)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func itoa(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }

// TestCheckReplaced: of a transaction and its replacement, the one whose
// nonce was taken is replaced when the node mined its rival, naming the
// winner, and dropped when no rival was mined (another transaction won).
func TestCheckReplaced(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	node := &fakeNode{outcomes: map[string]broadcast.Outcome{
		"0xoriginal": {Progress: broadcast.Dropped, Error: "nonce 1 was taken"},
		"0xspeedup0": {Progress: broadcast.Mined, BlockNumber: 9, Confirmations: 1},
		"0xother000": {Progress: broadcast.Dropped, Error: "nonce 2 was taken"},
		"0xcancel00": {Progress: broadcast.Pending},
	}}
	nodes := broadcast.NewNodes()
	nodes.Set("ETH", false, node)
	queue := func(txID, replaces string) string {
		id, err := store.Create(ctx, tenant, pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{}, Replaces: replaces})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Complete(ctx, tenant, id[0], txID); err != nil {
			t.Fatal(err)
		}
		return id[0]
	}
	original := queue("0xoriginal", "")
	queue("0xspeedup0", original)
	other := queue("0xother000", "")
	queue("0xcancel00", other)
	tr := New(Config{Store: store, Nodes: nodes, Depth: map[string]uint64{"ETH": 3}, Owner: "t"})
	claimed, err := store.ClaimTracking(ctx, pending.TrackClaim{Owner: "t", Lease: time.Minute, Max: 100})
	if err != nil || len(claimed) != 4 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	for _, c := range claimed {
		tr.Check(ctx, c)
	}
	for id, want := range map[string]pending.Outcome{original: {ReplacedBy: "0xspeedup0", Error: "nonce 1 was taken"}, other: {Error: "nonce 2 was taken"}} {
		got, err := store.Get(ctx, tenant, id)
		wantState := pending.StateReplaced
		if want.ReplacedBy == "" {
			wantState = pending.StateDropped
		}
		if err != nil || got.State != wantState || got.Outcome.ReplacedBy != want.ReplacedBy || got.Outcome.Error != want.Error {
			t.Errorf("%s: %s %+v (%v), want %s replaced by %q", id, got.State, got.Outcome, err, wantState, want.ReplacedBy)
		}
	}
}
