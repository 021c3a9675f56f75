package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

// hookTests are the webhook contract's cases; Run runs them with the others.
var hookTests = []struct {
	name string
	f    func(*testing.T, pending.Store)
}{
	{"HookSubscriptions", testHookSubscriptions},
	{"HookOutboxComplete", testHookOutboxComplete},
	{"HookOutboxFail", testHookOutboxFail},
	{"HookOutboxSignerErrors", testHookOutboxSignerErrors},
	{"HookNoSubscriptionNoEvent", testHookNoSubscriptionNoEvent},
	{"HookLease", testHookLease},
	{"HookDeliveredBatch", testHookDeliveredBatch},
	{"HookOrderPerTransaction", testHookOrder},
	{"HookRetryAndDeadLetter", testHookRetryAndDeadLetter},
	{"HookSecret", testHookSecret},
	{"HookConcurrentClaims", testHookConcurrentClaims},
	{"TxState", testTxState},
}

const hookURL = "https://hooks.example/in"

func subscribe(t *testing.T, s pending.Store, tenant, typ string) pending.Subscription {
	t.Helper()
	return subscribeAt(t, s, tenant, typ, hookURL+"/"+typ)
}

func subscribeAt(t *testing.T, s pending.Store, tenant, typ, url string) pending.Subscription {
	t.Helper()
	sub, err := s.CreateSubscription(context.Background(), tenant, typ, url)
	if err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	return sub
}

// claimAll claims every due delivery for owner with a long lease.
func claimAll(t *testing.T, s pending.Store, owner string) []pending.Delivery {
	t.Helper()
	ds, err := s.ClaimDeliveries(context.Background(), pending.DeliveryClaim{Owner: owner, Lease: time.Minute, Max: 1000})
	if err != nil {
		t.Fatalf("ClaimDeliveries: %v", err)
	}
	return ds
}

// deliverAll claims and marks delivered every due delivery, round after
// round (a transaction's later events come due as its earlier ones are
// delivered), and returns them in the order they were claimed.
func deliverAll(t *testing.T, s pending.Store) []pending.Delivery {
	t.Helper()
	var all []pending.Delivery
	for {
		ds := claimAll(t, s, "worker")
		if len(ds) == 0 {
			return all
		}
		slices.SortFunc(ds, func(a, b pending.Delivery) int { return cmp.Compare(a.Order, b.Order) })
		ids := make([]string, len(ds))
		for i, d := range ds {
			ids[i] = d.ID
		}
		// One call records the round, as a busy worker records its batches.
		if err := s.Delivered(context.Background(), ids...); err != nil {
			t.Fatal(err)
		}
		all = append(all, ds...)
	}
}

func wantBodies(t *testing.T, ds []pending.Delivery, want ...string) {
	t.Helper()
	var got []string
	for _, d := range ds {
		got = append(got, string(d.Body))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivered bodies %q, want %q", got, want)
	}
}

func testHookSubscriptions(t *testing.T, s pending.Store) {
	ctx := context.Background()
	a1 := subscribe(t, s, tenantA, pending.EventCompleted)
	a2 := subscribe(t, s, tenantA, pending.EventFailed)
	b1 := subscribe(t, s, tenantB, pending.EventCompleted)
	got, err := s.Subscriptions(ctx, tenantA)
	if err != nil || len(got) != 2 || got[0].ID != a1.ID || got[1].ID != a2.ID || got[1].Type != pending.EventFailed || got[1].URL != hookURL+"/"+pending.EventFailed {
		t.Fatalf("Subscriptions(A) = %+v, %v", got, err)
	}
	if err := s.DeleteSubscription(ctx, tenantA, b1.ID); !errors.Is(err, pending.ErrSubscriptionNotFound) {
		t.Fatalf("deleting another tenant's subscription: %v", err)
	}
	if got, _ := s.Subscriptions(ctx, tenantB); len(got) != 1 || got[0].ID != b1.ID {
		t.Fatalf("Subscriptions(B) = %+v", got)
	}
	if err := s.DeleteSubscription(ctx, tenantA, a1.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSubscription(ctx, tenantA, a1.ID); !errors.Is(err, pending.ErrSubscriptionNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
	if got, _ := s.Subscriptions(ctx, tenantA); len(got) != 1 || got[0].ID != a2.ID {
		t.Fatalf("after delete: %+v", got)
	}
	if got, _ := s.Subscriptions(ctx, "cccccccccccccccccccccccc"); got == nil || len(got) != 0 {
		t.Fatalf("no subscriptions = %#v, want an empty list", got)
	}
}

func testHookOutboxComplete(t *testing.T, s pending.Store) {
	ctx := context.Background()
	sub := subscribe(t, s, tenantA, pending.EventCompleted)
	subscribe(t, s, tenantB, pending.EventCompleted)
	id := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	if err := s.Complete(ctx, tenantA, id, "0xfeed000001"); err != nil {
		t.Fatal(err)
	}
	ds := deliverAll(t, s)
	wantBodies(t, ds, `{"signatureId":"`+id+`","txId":"0xfeed000001","subscriptionType":"KMS_COMPLETED_TX"}`)
	d := ds[0]
	if d.Tenant != tenantA || d.SubscriptionID != sub.ID || d.PendingID != id || d.Type != pending.EventCompleted ||
		d.URL != sub.URL || len(d.EventID) != 24 || d.Attempts != 0 || d.CreatedAt.IsZero() {
		t.Fatalf("delivery %+v", d)
	}
	// An idempotent repeat changes nothing and reports nothing; a refused
	// change (another txId, a deleted transaction) writes no event.
	if err := s.Complete(ctx, tenantA, id, "0xfeed000001"); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, tenantA, id, "0xfeed000002"); !errors.Is(err, pending.ErrTxIDConflict) {
		t.Fatal(err)
	}
	del := create(t, s, tenantA, simple("ETH", sig(2)))[0]
	if _, err := s.Delete(ctx, tenantA, del, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, tenantA, del, "0xfeed000003"); !errors.Is(err, pending.ErrDeleted) {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, tenantB, id, "0xfeed000004"); !errors.Is(err, pending.ErrNotFound) {
		t.Fatal(err)
	}
	wantBodies(t, claimAll(t, s, "worker"))
}

func testHookOutboxFail(t *testing.T, s pending.Store) {
	ctx := context.Background()
	subscribe(t, s, tenantA, pending.EventFailed)
	subscribe(t, s, tenantA, pending.EventCompleted)
	ids := create(t, s, tenantA, simple("ETH", sig(1)), simple("ETH", sig(2)))
	if _, err := s.Fail(ctx, tenantA, ids[0], "nonce too low"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fail(ctx, tenantA, ids[0], "again"); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, tenantA, ids[1], "0xfeed000001"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fail(ctx, tenantA, ids[1], "too late"); !errors.Is(err, pending.ErrCompleted) {
		t.Fatal(err)
	}
	wantBodies(t, deliverAll(t, s),
		`{"signatureId":"`+ids[0]+`","error":"nonce too low","subscriptionType":"KMS_FAILED_TX"}`,
		`{"signatureId":"`+ids[1]+`","txId":"0xfeed000001","subscriptionType":"KMS_COMPLETED_TX"}`)
}

func testHookOutboxSignerErrors(t *testing.T, s pending.Store) {
	ctx := context.Background()
	subscribe(t, s, tenantA, pending.EventFailed)
	id := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	report := func(msgs ...string) {
		t.Helper()
		var errs []pending.TxError
		for _, m := range msgs {
			errs = append(errs, pending.TxError{ID: id, Message: m})
		}
		errs = append(errs, pending.TxError{ID: "ffffffffffffffffffffffff", Message: "unknown"})
		if _, err := s.RecordErrors(ctx, tenantA, errs); err != nil {
			t.Fatal(err)
		}
	}
	report("approval timeout", "approval timeout")
	report("approval timeout")
	report("node down \"x\"\n")
	body := func(m string) string {
		return `{"signatureId":"` + id + `","error":"` + m + `","subscriptionType":"KMS_FAILED_TX"}`
	}
	// A report repeating the latest one is kept but sends nothing.
	wantBodies(t, deliverAll(t, s), body("approval timeout"), body(`node down \"x\"\n`))
	if _, n, _ := s.LastError(ctx, tenantA, id); n != 4 {
		t.Fatalf("%d reports kept, want 4", n)
	}
	// Another tenant's report about the id is skipped like an unknown one.
	if _, err := s.RecordErrors(ctx, tenantB, []pending.TxError{{ID: id, Message: "foreign"}}); err != nil {
		t.Fatal(err)
	}
	wantBodies(t, claimAll(t, s, "worker"))
}

func testHookNoSubscriptionNoEvent(t *testing.T, s pending.Store) {
	ctx := context.Background()
	subscribe(t, s, tenantA, pending.EventFailed) // another type
	id := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	if err := s.Complete(ctx, tenantA, id, "0xfeed000001"); err != nil {
		t.Fatal(err)
	}
	subscribe(t, s, tenantA, pending.EventCompleted)
	wantBodies(t, claimAll(t, s, "worker"))
}

func testHookLease(t *testing.T, s pending.Store) {
	ctx := context.Background()
	subscribe(t, s, tenantA, pending.EventCompleted)
	id := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	if err := s.Complete(ctx, tenantA, id, "0xfeed000001"); err != nil {
		t.Fatal(err)
	}
	first, err := s.ClaimDeliveries(ctx, pending.DeliveryClaim{Owner: "w1", Lease: 300 * time.Millisecond, Max: 10})
	if err != nil || len(first) != 1 {
		t.Fatalf("first claim %v, %v", first, err)
	}
	if again := claimAll(t, s, "w2"); len(again) != 0 {
		t.Fatalf("a leased delivery was claimed again: %+v", again)
	}
	if own := claimAll(t, s, "w1"); len(own) != 0 {
		t.Fatalf("a running lease was handed to its holder twice: %+v", own)
	}
	time.Sleep(500 * time.Millisecond)
	// w1 died: its lease ran out and w2 sends the same event again.
	second := claimAll(t, s, "w2")
	if len(second) != 1 || second[0].EventID != first[0].EventID || second[0].ID != first[0].ID {
		t.Fatalf("after the lease ran out: %+v, first %+v", second, first)
	}
	// w1's late failure report no longer holds the delivery.
	if err := s.DeliveryFailed(ctx, "w1", first[0].ID, "late", 0, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Delivered(ctx, second[0].ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if left := claimAll(t, s, "w3"); len(left) != 0 {
		t.Fatalf("a delivered event was claimed again: %+v", left)
	}
	if dl, _ := s.DeadLetters(ctx, tenantA); len(dl) != 0 {
		t.Fatalf("a stale failure report dead-lettered a delivery: %+v", dl)
	}
}

// One Delivered call records every delivery it names: none comes back
// once the leases run out.
func testHookDeliveredBatch(t *testing.T, s pending.Store) {
	ctx := context.Background()
	subscribe(t, s, tenantA, pending.EventCompleted)
	for i, id := range create(t, s, tenantA, simple("ETH", sig(1)), simple("ETH", sig(2)), simple("ETH", sig(3))) {
		if err := s.Complete(ctx, tenantA, id, fmt.Sprintf("0xfeed00000%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := s.ClaimDeliveries(ctx, pending.DeliveryClaim{Owner: "w", Lease: time.Millisecond, Max: 10})
	if err != nil || len(ds) != 3 {
		t.Fatalf("claimed %d (%v), want 3", len(ds), err)
	}
	if err := s.Delivered(ctx, ds[0].ID, ds[1].ID, ds[2].ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if again := claimAll(t, s, "other"); len(again) != 0 {
		t.Fatalf("%d of 3 deliveries recorded in one call come back", len(again))
	}
}

func testHookOrder(t *testing.T, s pending.Store) {
	ctx := context.Background()
	// One receiver for both types, as applications often have.
	subscribeAt(t, s, tenantA, pending.EventCompleted, hookURL)
	subscribeAt(t, s, tenantA, pending.EventFailed, hookURL)
	// Another receiver is not held up by this one.
	subscribe(t, s, tenantA, pending.EventCompleted)
	ids := create(t, s, tenantA, simple("ETH", sig(1)), simple("ETH", sig(2)))
	if _, err := s.RecordErrors(ctx, tenantA, []pending.TxError{{ID: ids[0], Message: "first"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, tenantA, ids[0], "0xfeed000001"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordErrors(ctx, tenantA, []pending.TxError{{ID: ids[1], Message: "other"}}); err != nil {
		t.Fatal(err)
	}
	// Only the first event of each transaction is due at hookURL: the
	// completion of ids[0] waits for its error report, ids[1] is not held
	// up by ids[0]; the other receiver has the completion at once.
	ds := claimAll(t, s, "w")
	var first pending.Delivery
	for _, d := range ds {
		switch {
		case d.URL != hookURL && d.Type == pending.EventCompleted && d.PendingID == ids[0]:
			if err := s.Delivered(ctx, d.ID); err != nil {
				t.Fatal(err)
			}
		case d.URL == hookURL && d.PendingID == ids[0]:
			first = d
		case d.URL == hookURL && d.PendingID == ids[1]:
		default:
			t.Fatalf("claimed %+v", d)
		}
	}
	if len(ds) != 3 {
		t.Fatalf("claimed %d deliveries, want 3: %+v", len(ds), ds)
	}
	if first.Type != pending.EventFailed {
		t.Fatalf("the completion of %s was claimed before its earlier error report", ids[0])
	}
	// A retry scheduled later still holds the completion back.
	if err := s.DeliveryFailed(ctx, "w", first.ID, "503", 0, false); err != nil {
		t.Fatal(err)
	}
	again := claimAll(t, s, "w")
	if len(again) != 1 || again[0].ID != first.ID || again[0].Attempts != 1 {
		t.Fatalf("after a failed attempt: %+v", again)
	}
	// Dead-lettering the first releases the next.
	if err := s.DeliveryFailed(ctx, "w", first.ID, "503", 0, true); err != nil {
		t.Fatal(err)
	}
	next := claimAll(t, s, "w")
	if len(next) != 1 || next[0].PendingID != ids[0] || next[0].Type != pending.EventCompleted || next[0].Order <= first.Order {
		t.Fatalf("after the first was dead-lettered: %+v", next)
	}
}

func testHookRetryAndDeadLetter(t *testing.T, s pending.Store) {
	ctx := context.Background()
	sub := subscribe(t, s, tenantA, pending.EventCompleted)
	id := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	if err := s.Complete(ctx, tenantA, id, "0xfeed000001"); err != nil {
		t.Fatal(err)
	}
	d := claimAll(t, s, "w")[0]
	if err := s.DeliveryFailed(ctx, "w", d.ID, "connection refused", time.Hour, false); err != nil {
		t.Fatal(err)
	}
	if got := claimAll(t, s, "w"); len(got) != 0 {
		t.Fatalf("a delivery was claimed before its retry time: %+v", got)
	}
	if dl, _ := s.DeadLetters(ctx, tenantA); len(dl) != 0 {
		t.Fatalf("dead letters before the last attempt: %+v", dl)
	}
	// The first attempt failed; a dead letter after the second.
	d2 := create(t, s, tenantA, simple("ETH", sig(2)))[0]
	if err := s.Complete(ctx, tenantA, d2, "0xfeed000002"); err != nil {
		t.Fatal(err)
	}
	c := claimAll(t, s, "w")[0]
	if err := s.DeliveryFailed(ctx, "w", c.ID, "HTTP 500", 0, true); err != nil {
		t.Fatal(err)
	}
	dl, err := s.DeadLetters(ctx, tenantA)
	if err != nil || len(dl) != 1 {
		t.Fatalf("DeadLetters = %+v, %v", dl, err)
	}
	l := dl[0]
	if l.ID != c.ID || l.EventID != c.EventID || l.SubscriptionID != sub.ID || l.PendingID != d2 || l.Attempts != 1 ||
		l.LastError != "HTTP 500" || l.URL != sub.URL || string(l.Body) != string(c.Body) || l.FailedAt.IsZero() {
		t.Fatalf("dead letter %+v", l)
	}
	if got := claimAll(t, s, "w"); len(got) != 0 {
		t.Fatalf("a dead letter was claimed: %+v", got)
	}
	if dl, _ := s.DeadLetters(ctx, tenantB); len(dl) != 0 {
		t.Fatalf("tenant B sees A's dead letters: %+v", dl)
	}
	if err := s.RetryDeadLetter(ctx, tenantB, l.ID); !errors.Is(err, pending.ErrDeliveryNotFound) {
		t.Fatalf("B retried A's dead letter: %v", err)
	}
	if err := s.RetryDeadLetter(ctx, tenantA, d.ID); !errors.Is(err, pending.ErrDeliveryNotFound) {
		t.Fatalf("retrying a delivery that is not dead: %v", err)
	}
	if err := s.RetryDeadLetter(ctx, tenantA, l.ID); err != nil {
		t.Fatal(err)
	}
	got := claimAll(t, s, "w")
	if len(got) != 1 || got[0].EventID != l.EventID || got[0].Attempts != 0 {
		t.Fatalf("after retry: %+v", got)
	}
	if dl, _ := s.DeadLetters(ctx, tenantA); len(dl) != 0 {
		t.Fatalf("a retried dead letter is still listed: %+v", dl)
	}
	// Deleting the subscription drops what it still had to deliver.
	if err := s.DeleteSubscription(ctx, tenantA, sub.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if err := s.DeliveryFailed(ctx, "w", got[0].ID, "x", 0, false); err != nil {
		t.Fatal(err)
	}
	if left := claimAll(t, s, "w"); len(left) != 0 {
		t.Fatalf("deliveries of a deleted subscription: %+v", left)
	}
}

func testHookSecret(t *testing.T, s pending.Store) {
	ctx := context.Background()
	subscribe(t, s, tenantA, pending.EventCompleted)
	subscribe(t, s, tenantB, pending.EventCompleted)
	if err := s.SetHMACSecret(ctx, tenantA, "first"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetHMACSecret(ctx, tenantA, "s3cret"); err != nil {
		t.Fatal(err)
	}
	a := create(t, s, tenantA, simple("ETH", sig(1)), simple("ETH", sig(2)))
	b := create(t, s, tenantB, simple("ETH", sig(1)))[0]
	for _, c := range []struct{ tenant, id string }{{tenantA, a[0]}, {tenantB, b}} {
		if err := s.Complete(ctx, c.tenant, c.id, "0xfeed000001"); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range deliverAll(t, s) {
		if want := map[string]string{tenantA: "s3cret", tenantB: ""}[d.Tenant]; d.Secret != want {
			t.Fatalf("delivery of %s carries secret %q, want %q", d.Tenant, d.Secret, want)
		}
	}
	if err := s.SetHMACSecret(ctx, tenantA, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, tenantA, a[1], "0xfeed000002"); err != nil {
		t.Fatal(err)
	}
	if ds := deliverAll(t, s); len(ds) != 1 || ds[0].Secret != "" {
		t.Fatalf("after turning signing off: %+v", ds)
	}
}

func testHookConcurrentClaims(t *testing.T, s pending.Store) {
	ctx := context.Background()
	subscribe(t, s, tenantA, pending.EventCompleted)
	const n = 60
	txs := make([]pending.NewTx, n)
	for i := range txs {
		txs[i] = simple("ETH", sig(i))
	}
	ids := create(t, s, tenantA, txs...)
	for i, id := range ids {
		if err := s.Complete(ctx, tenantA, id, fmt.Sprintf("0xfeed%06d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(owner string) {
			defer wg.Done()
			for {
				ds, err := s.ClaimDeliveries(ctx, pending.DeliveryClaim{Owner: owner, Lease: time.Minute, Max: 7})
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					seen[d.EventID]++
				}
				mu.Unlock()
			}
		}(fmt.Sprint("w", w))
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d events claimed, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("event %s claimed %d times", id, c)
		}
	}
}

func testTxState(t *testing.T, s pending.Store) {
	ctx := context.Background()
	ids := create(t, s, tenantA, simple("ETH", sig(1)), simple("ETH", sig(2)), simple("ETH", sig(3)), simple("ETH", sig(4)), simple("ETH", sig(5)))
	if err := s.SetTxData(ctx, tenantA, ids[1], "0xsigned"); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, tenantA, ids[2], "0xfeed000001"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fail(ctx, tenantA, ids[3], "nonce too low"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fail(ctx, tenantA, ids[4], pending.ExpiredReason+"window passed"); err != nil {
		t.Fatal(err)
	}
	want := []pending.State{pending.StateQueued, pending.StateSigned, pending.StateBroadcast, pending.StateFailed, pending.StateExpired}
	for i, id := range ids {
		tx, err := s.Get(ctx, tenantA, id)
		if err != nil || tx.State != want[i] {
			t.Fatalf("Get(%d).State = %q, %v; want %q", i, tx.State, err, want[i])
		}
	}
}
