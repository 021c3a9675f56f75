package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

// trackTests are the outcome tracking contract's cases; Run runs them with the others.
var trackTests = []struct {
	name string
	f    func(*testing.T, pending.Store)
}{
	{"TrackClaimLease", testTrackClaimLease},
	{"TrackOutcomeOutbox", testTrackOutcomeOutbox},
	{"TrackConcurrentClaims", testTrackConcurrentClaims},
	{"TrackListing", testTrackListing},
	{"TrackReplaced", testTrackReplaced},
	{"TrackExpired", testTrackExpired},
	{"TrackSettle", testTrackSettle},
}

func u64p(v uint64) *uint64 { return &v }

// broadcastTxs queues n transactions for tenant and completes each, which
// makes them due for tracking.
func broadcastTxs(t *testing.T, s pending.Store, tenant string, n int) []string {
	t.Helper()
	var txs []pending.NewTx
	for i := range n {
		txs = append(txs, simple("ETH", sig(i+1)))
	}
	ids := create(t, s, tenant, txs...)
	for i, id := range ids {
		if err := s.SetTxData(context.Background(), tenant, id, fmt.Sprintf("0xsigned%02d", i)); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(context.Background(), tenant, id, fmt.Sprintf("0xfeed%06d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func claimTracking(t *testing.T, s pending.Store, owner string, lease time.Duration) []pending.Tracked {
	t.Helper()
	got, err := s.ClaimTracking(context.Background(), pending.TrackClaim{Owner: owner, Lease: lease, Max: 1000})
	if err != nil {
		t.Fatalf("ClaimTracking: %v", err)
	}
	return got
}

func testTrackClaimLease(t *testing.T, s pending.Store) {
	ctx := context.Background()
	create(t, s, tenantA, simple("ETH", sig(99))) // queued: never tracked
	ids := broadcastTxs(t, s, tenantA, 2)
	got := claimTracking(t, s, "a", time.Minute)
	if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[1] {
		t.Fatalf("claimed %+v, want both broadcast transactions", got)
	}
	if g := got[0]; g.Tenant != tenantA || g.Chain != "ETH" || g.TxID != "0xfeed000000" || g.TxData != "0xsigned00" || g.Checks != 0 {
		t.Fatalf("tracked %+v", g)
	}
	if again := claimTracking(t, s, "b", time.Minute); len(again) != 0 {
		t.Fatalf("a leased transaction was claimed again: %+v", again)
	}
	up := pending.OutcomeUpdate{Tenant: tenantA, ID: ids[0], State: pending.StateBroadcast, RetryIn: 0}
	if err := s.RecordOutcome(ctx, "b", up); !errors.Is(err, pending.ErrNotLeased) {
		t.Fatalf("RecordOutcome by a non-holder = %v, want ErrNotLeased", err)
	}
	if err := s.RecordOutcome(ctx, "a", up); err != nil {
		t.Fatal(err)
	}
	// Recorded and due again at once: free for anyone, its checks counted.
	got = claimTracking(t, s, "b", time.Millisecond)
	if len(got) != 1 || got[0].ID != ids[0] || got[0].Checks != 1 {
		t.Fatalf("claimed %+v, want %s with one check", got, ids[0])
	}
	// A lease that ran out is free again.
	time.Sleep(20 * time.Millisecond)
	if got = claimTracking(t, s, "c", time.Minute); len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("claimed %+v after the lease ran out", got)
	}
	// A check due later is not claimed before it is due; Stop ends tracking.
	if err := s.RecordOutcome(ctx, "c", pending.OutcomeUpdate{Tenant: tenantA, ID: ids[0], State: pending.StateBroadcast, RetryIn: time.Hour}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if err := s.RecordOutcome(ctx, "a", pending.OutcomeUpdate{Tenant: tenantA, ID: ids[1], State: pending.StateBroadcast, Stop: true}); err != nil {
		t.Fatal(err)
	}
	if got = claimTracking(t, s, "d", time.Minute); len(got) != 0 {
		t.Fatalf("claimed %+v: neither is due", got)
	}
	tx, err := s.Get(ctx, tenantA, ids[1])
	if err != nil || tx.State != pending.StateBroadcast {
		t.Fatalf("stopped tracking: %+v, %v", tx, err)
	}
}

// testTrackSettle: a transaction never checked waits its chain's settle
// time (SettleBy, else Settle) after its broadcast; once checked, only its
// recorded next check counts.
func testTrackSettle(t *testing.T, s pending.Store) {
	ctx := context.Background()
	ids := broadcastTxs(t, s, tenantA, 2)
	claim := func(owner string, settle time.Duration, by map[string]time.Duration) []pending.Tracked {
		t.Helper()
		got, err := s.ClaimTracking(ctx, pending.TrackClaim{Owner: owner, Lease: time.Minute, Max: 10, Settle: settle, SettleBy: by})
		if err != nil {
			t.Fatalf("ClaimTracking: %v", err)
		}
		return got
	}
	if got := claim("a", time.Hour, nil); len(got) != 0 {
		t.Fatalf("claimed %+v within an hour's settle time", got)
	}
	if got := claim("a", 0, map[string]time.Duration{"ETH": time.Hour}); len(got) != 0 {
		t.Fatalf("claimed %+v within its chain's settle time of an hour", got)
	}
	if got := claim("a", time.Hour, map[string]time.Duration{"BTC": 0}); len(got) != 0 {
		t.Fatalf("claimed %+v: another chain's settle time applied", got)
	}
	time.Sleep(30 * time.Millisecond)
	got := claim("a", time.Hour, map[string]time.Duration{"ETH": 10 * time.Millisecond})
	if len(got) != 2 {
		t.Fatalf("claimed %+v, want both once their chain's settle time passed", got)
	}
	if err := s.RecordOutcome(ctx, "a", pending.OutcomeUpdate{Tenant: tenantA, ID: ids[0], State: pending.StateBroadcast}); err != nil {
		t.Fatal(err)
	}
	if got := claim("b", time.Hour, nil); len(got) != 1 || got[0].ID != ids[0] || got[0].Checks != 1 {
		t.Fatalf("claimed %+v, want %s: checked once, it is due at its recorded time whatever the settle time", got, ids[0])
	}
}

func testTrackOutcomeOutbox(t *testing.T, s pending.Store) {
	ctx := context.Background()
	for _, typ := range []string{pending.EventConfirmed, pending.EventFailedOnChain, pending.EventDropped} {
		subscribe(t, s, tenantA, typ)
	}
	ids := broadcastTxs(t, s, tenantA, 3)
	claimTracking(t, s, "a", time.Minute)
	// Mined but not deep enough: recorded, still broadcast, no event.
	if err := s.RecordOutcome(ctx, "a", pending.OutcomeUpdate{Tenant: tenantA, ID: ids[0], State: pending.StateBroadcast,
		BlockNumber: u64p(7), Confirmations: u64p(1), Fee: "21000", Rebroadcast: true}); err != nil {
		t.Fatal(err)
	}
	tx, err := s.Get(ctx, tenantA, ids[0])
	if err != nil || tx.State != pending.StateBroadcast || tx.Outcome.BlockNumber == nil || *tx.Outcome.BlockNumber != 7 ||
		tx.Outcome.Fee != "21000" || tx.Outcome.Rebroadcasts != 1 || tx.Outcome.FinalAt != nil {
		t.Fatalf("Get after a shallow check: %+v, %v", tx, err)
	}
	if ds := claimAll(t, s, "worker"); len(ds) != 0 {
		t.Fatalf("a check that changed no state sent %d events", len(ds))
	}
	claimTracking(t, s, "a", time.Minute)
	updates := []pending.OutcomeUpdate{
		{Tenant: tenantA, ID: ids[0], State: pending.StateConfirmed, BlockNumber: u64p(7), Confirmations: u64p(3), Fee: "21000"},
		{Tenant: tenantA, ID: ids[1], State: pending.StateFailed, BlockNumber: u64p(8), Confirmations: u64p(2), Fee: "30000",
			Error: "receipt status 0"},
		{Tenant: tenantA, ID: ids[2], State: pending.StateDropped, Error: "nonce 4 taken by another transaction"},
	}
	for _, u := range updates {
		if err := s.RecordOutcome(ctx, "a", u); err != nil {
			t.Fatal(err)
		}
	}
	// A second recording by the old holder is refused and adds no event.
	if err := s.RecordOutcome(ctx, "a", updates[0]); !errors.Is(err, pending.ErrNotLeased) {
		t.Fatalf("recording a final transaction again = %v, want ErrNotLeased", err)
	}
	wantBodies(t, deliverAll(t, s),
		`{"signatureId":"`+ids[0]+`","txId":"0xfeed000000","status":"confirmed","blockNumber":7,"confirmations":3,"fee":"21000","subscriptionType":"KMS_TX_CONFIRMED"}`,
		`{"signatureId":"`+ids[1]+`","txId":"0xfeed000001","status":"failed","blockNumber":8,"confirmations":2,"fee":"30000","error":"receipt status 0","subscriptionType":"KMS_TX_FAILED_ONCHAIN"}`,
		`{"signatureId":"`+ids[2]+`","txId":"0xfeed000002","status":"dropped","error":"nonce 4 taken by another transaction","subscriptionType":"KMS_TX_DROPPED"}`)
	for i, want := range []pending.State{pending.StateConfirmed, pending.StateFailed, pending.StateDropped} {
		tx, err := s.Get(ctx, tenantA, ids[i])
		if err != nil || tx.State != want || tx.Outcome.FinalAt == nil {
			t.Fatalf("Get(%d) = %+v, %v; want %s and a final time", i, tx, err, want)
		}
	}
	if got := claimTracking(t, s, "b", time.Minute); len(got) != 0 {
		t.Fatalf("final transactions claimed again: %+v", got)
	}
}

// A replacement of a replacement joins the first one's group: each member
// sees the others that were broadcast (Rivals), and not another tenant's or
// a queued one; a replaced transaction records and announces its winner.
func testTrackReplaced(t *testing.T, s pending.Store) {
	ctx := context.Background()
	subscribe(t, s, tenantA, pending.EventReplaced)
	ids := broadcastTxs(t, s, tenantA, 2) // ids[1] is no rival of ids[0]
	first := simple("ETH", sig(7))
	first.Replaces = ids[0]
	r1 := create(t, s, tenantA, first)[0]
	second := simple("ETH", sig(8))
	second.Replaces = r1 // a speed-up of the speed-up
	r2 := create(t, s, tenantA, second)[0]
	foreign := simple("ETH", sig(9))
	foreign.Replaces = ids[0]
	create(t, s, tenantB, foreign)
	rivals := func(id string) []pending.Rival {
		t.Helper()
		got, err := s.Rivals(ctx, tenantA, id)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := rivals(ids[0]); len(got) != 0 {
		t.Fatalf("rivals before any replacement was broadcast: %+v", got)
	}
	for _, id := range []string{r1, r2} {
		if err := s.Complete(ctx, tenantA, id, "0xrival"+id); err != nil {
			t.Fatal(err)
		}
	}
	want := fmt.Sprint([]pending.Rival{{ID: r1, TxID: "0xrival" + r1}, {ID: r2, TxID: "0xrival" + r2}})
	if got := fmt.Sprint(rivals(ids[0])); got != want {
		t.Fatalf("rivals of the original = %s, want %s", got, want)
	}
	want = fmt.Sprint([]pending.Rival{{ID: ids[0], TxID: "0xfeed000000"}, {ID: r1, TxID: "0xrival" + r1}})
	if got := fmt.Sprint(rivals(r2)); got != want {
		t.Fatalf("rivals of the second replacement = %s, want %s", got, want)
	}
	if got := rivals(ids[1]); len(got) != 0 {
		t.Fatalf("an unrelated transaction has rivals: %+v", got)
	}
	claimTracking(t, s, "a", time.Minute)
	if err := s.RecordOutcome(ctx, "a", pending.OutcomeUpdate{Tenant: tenantA, ID: ids[0], State: pending.StateReplaced,
		ReplacedBy: "0xrival" + r2, Error: "nonce 4 was taken by a replacement"}); err != nil {
		t.Fatal(err)
	}
	wantBodies(t, deliverAll(t, s), `{"signatureId":"`+ids[0]+`","txId":"0xfeed000000","status":"replaced","error":"nonce 4 was taken by a replacement","replacedBy":"0xrival`+r2+`","subscriptionType":"KMS_TX_REPLACED"}`)
	tx, err := s.Get(ctx, tenantA, ids[0])
	if err != nil || tx.State != pending.StateReplaced || tx.Outcome.ReplacedBy != "0xrival"+r2 || tx.Outcome.FinalAt == nil {
		t.Fatalf("Get of the replaced transaction = %+v, %v", tx, err)
	}
}

// Expired is final whether the window passed before broadcast (Fail with
// pending.ExpiredReason: Tatum's KMS_FAILED_TX, then KMS_TX_EXPIRED without
// a txId) or after it (RecordOutcome: KMS_TX_EXPIRED with the txId); each
// event commits with its state, and the listing's filter finds both.
func testTrackExpired(t *testing.T, s pending.Store) {
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	subscribe(t, s, tenantA, pending.EventFailed)
	subscribe(t, s, tenantA, pending.EventExpired)
	subscribe(t, s, tenantB, pending.EventExpired)
	queued := create(t, s, tenantA, simple("TRON", sig(60)), simple("TRON", sig(61)))
	ids := broadcastTxs(t, s, tenantA, 2)
	if _, err := s.Fail(ctx, tenantA, queued[0], pending.ExpiredReason+"the validity window passed before broadcast (node: TOO_LATE)"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fail(ctx, tenantA, queued[1], "balance too low"); err != nil { // failed, not expired: no KMS_TX_EXPIRED
		t.Fatal(err)
	}
	claimTracking(t, s, "a", time.Minute)
	if err := s.RecordOutcome(ctx, "a", pending.OutcomeUpdate{Tenant: tenantA, ID: ids[1], State: pending.StateExpired,
		Error: "LastLedgerSequence 90 passed (validated ledger 91) without the transaction"}); err != nil {
		t.Fatal(err)
	}
	wantBodies(t, deliverAll(t, s),
		`{"signatureId":"`+queued[0]+`","error":"expired: the validity window passed before broadcast (node: TOO_LATE)","subscriptionType":"KMS_FAILED_TX"}`,
		`{"signatureId":"`+queued[0]+`","status":"expired","error":"expired: the validity window passed before broadcast (node: TOO_LATE)","subscriptionType":"KMS_TX_EXPIRED"}`,
		`{"signatureId":"`+queued[1]+`","error":"balance too low","subscriptionType":"KMS_FAILED_TX"}`,
		`{"signatureId":"`+ids[1]+`","txId":"0xfeed000001","status":"expired","error":"LastLedgerSequence 90 passed (validated ledger 91) without the transaction","subscriptionType":"KMS_TX_EXPIRED"}`)
	for _, id := range []string{queued[0], ids[1]} {
		tx, err := s.Get(ctx, tenantA, id)
		if err != nil || tx.State != pending.StateExpired {
			t.Fatalf("Get(%s) = %+v, %v; want expired", id, tx, err)
		}
	}
	if tx, err := s.Get(ctx, tenantA, ids[1]); err != nil || tx.Outcome.FinalAt == nil || tx.Outcome.Error == "" {
		t.Fatalf("the tracked expiry kept no final time or reason: %+v, %v", tx, err)
	}
	got, err := s.Transactions(ctx, pending.TxFilter{Tenant: tenantA, Status: pending.StateExpired, Since: before, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, l := range got {
		listed = append(listed, l.ID)
	}
	if want := []string{queued[0], ids[1]}; fmt.Sprint(listed) != fmt.Sprint(want) {
		t.Fatalf("expired listing %v, want %v", listed, want)
	}
	// The other one's check is recorded as due at once: it alone comes back.
	if err := s.RecordOutcome(ctx, "a", pending.OutcomeUpdate{Tenant: tenantA, ID: ids[0], State: pending.StateBroadcast}); err != nil {
		t.Fatal(err)
	}
	if got := claimTracking(t, s, "b", time.Minute); len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("claimed after the expiry: %+v, want only %s", got, ids[0])
	}
}

func testTrackConcurrentClaims(t *testing.T, s pending.Store) {
	ids := broadcastTxs(t, s, tenantA, 40)
	var (
		mu   sync.Mutex
		seen = map[string]string{}
		wg   sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("replica-%d", w)
			for range 20 {
				got, err := s.ClaimTracking(context.Background(), pending.TrackClaim{Owner: owner, Lease: time.Minute, Max: 3})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, g := range got {
					if prev, dup := seen[g.ID]; dup {
						t.Errorf("%s claimed by %s and %s", g.ID, prev, owner)
					}
					seen[g.ID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != len(ids) {
		t.Fatalf("%d of %d transactions claimed", len(seen), len(ids))
	}
}

func testTrackListing(t *testing.T, s pending.Store) {
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	queued := create(t, s, tenantA, simple("ETH", sig(50)))[0]
	ids := broadcastTxs(t, s, tenantA, 2)
	broadcastTxs(t, s, tenantB, 1)
	claimTracking(t, s, "a", time.Minute)
	if err := s.RecordOutcome(ctx, "a", pending.OutcomeUpdate{Tenant: tenantA, ID: ids[1], State: pending.StateConfirmed,
		BlockNumber: u64p(9), Confirmations: u64p(1)}); err != nil {
		t.Fatal(err)
	}
	list := func(f pending.TxFilter) []string {
		t.Helper()
		got, err := s.Transactions(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range got {
			out = append(out, l.ID+":"+string(l.State))
			if l.ChangedAt.Before(f.Since) {
				t.Fatalf("%s changed at %v, before %v", l.ID, l.ChangedAt, f.Since)
			}
		}
		return out
	}
	all := list(pending.TxFilter{Tenant: tenantA, Since: before, Limit: 10})
	want := fmt.Sprint([]string{queued + ":queued", ids[0] + ":broadcast", ids[1] + ":confirmed"})
	if fmt.Sprint(all) != want {
		t.Fatalf("listing %v, want %v", all, want)
	}
	if got := list(pending.TxFilter{Tenant: tenantA, Status: pending.StateConfirmed, Since: before, Limit: 10}); fmt.Sprint(got) != fmt.Sprint([]string{ids[1] + ":confirmed"}) {
		t.Fatalf("confirmed listing %v", got)
	}
	if got := list(pending.TxFilter{Tenant: tenantA, Since: before, Limit: 1}); len(got) != 1 {
		t.Fatalf("limit 1 listed %v", got)
	}
	if got := list(pending.TxFilter{Tenant: tenantA, Since: time.Now().Add(time.Hour), Limit: 10}); len(got) != 0 {
		t.Fatalf("listing from the future %v", got)
	}
}

// RunOutboxAtomicity checks that a final outcome and its event commit
// together: with the outbox made to refuse inserts (breakOutbox, a backend's
// trigger), RecordOutcome fails and the state is unchanged, nothing is to be
// delivered, and the tracker keeps its lease; once mended (mendOutbox) the
// same recording commits both.
func RunOutboxAtomicity(t *testing.T, s pending.Store, breakOutbox, mendOutbox func(*testing.T)) {
	ctx := context.Background()
	subscribe(t, s, tenantA, pending.EventConfirmed)
	id := broadcastTxs(t, s, tenantA, 1)[0]
	claimTracking(t, s, "a", time.Minute)
	u := pending.OutcomeUpdate{Tenant: tenantA, ID: id, State: pending.StateConfirmed, BlockNumber: u64p(3), Confirmations: u64p(1)}
	breakOutbox(t)
	if err := s.RecordOutcome(ctx, "a", u); err == nil {
		t.Fatal("RecordOutcome succeeded with the outbox refusing its event")
	}
	if tx, err := s.Get(ctx, tenantA, id); err != nil || tx.State != pending.StateBroadcast || tx.Outcome.FinalAt != nil {
		t.Fatalf("after the failed recording: %+v, %v; want it still broadcast", tx, err)
	}
	if ds := claimAll(t, s, "worker"); len(ds) != 0 {
		t.Fatalf("%d deliveries of an event that did not commit", len(ds))
	}
	mendOutbox(t)
	if err := s.RecordOutcome(ctx, "a", u); err != nil {
		t.Fatal(err)
	}
	if tx, err := s.Get(ctx, tenantA, id); err != nil || tx.State != pending.StateConfirmed {
		t.Fatalf("after recording: %+v, %v", tx, err)
	}
	if ds := deliverAll(t, s); len(ds) != 1 || ds[0].Type != pending.EventConfirmed {
		t.Fatalf("deliveries %+v, want the one confirmation", ds)
	}
}
