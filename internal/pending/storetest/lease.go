package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

func claimIDs(t *testing.T, s pending.Store, signer string, lease time.Duration, ids []string) []string {
	t.Helper()
	return pendingIDs(t, s, pending.PendingQuery{Tenant: tenantA, Chain: "ETH", SignatureIDs: ids,
		Claim: &pending.Claim{Signer: signer, Lease: lease}})
}

// A lease keeps a transaction from other signers, is renewed by its holder,
// and is invisible to a query without a claim (the Tatum behaviour).
func testLeaseExclusive(t *testing.T, s pending.Store) {
	ctx := context.Background()
	ids := create(t, s, tenantA, simple("ETH", sig(1)), simple("ETH", sig(2)), simple("ETH", sig(1), sig(3)))
	other := create(t, s, tenantA, simple("BTC", sig(1)))[0]
	list := []string{sig(1), sig(2), sig(3)}

	if got := claimIDs(t, s, "signer-a", time.Minute, list); !reflect.DeepEqual(got, ids) {
		t.Fatalf("first claim = %v, want %v", got, ids)
	}
	for _, l := range [][]string{list, nil, {sig(3)}} {
		if got := claimIDs(t, s, "signer-b", time.Minute, l); len(got) != 0 {
			t.Fatalf("signer-b claimed %v while signer-a holds the lease", got)
		}
	}
	if got := claimIDs(t, s, "signer-a", time.Minute, nil); !reflect.DeepEqual(got, ids) {
		t.Fatalf("renewal by the holder = %v, want %v", got, ids)
	}
	for _, l := range [][]string{nil, list} {
		if got := pendingIDs(t, s, pending.PendingQuery{Tenant: tenantA, Chain: "ETH", SignatureIDs: l}); !reflect.DeepEqual(got, ids) {
			t.Fatalf("query without a claim = %v, want every pending tx %v", got, ids)
		}
	}
	// A lease is per transaction: other chains and new transactions are free.
	got := pendingIDs(t, s, pending.PendingQuery{Tenant: tenantA, Chain: "BTC", Claim: &pending.Claim{Signer: "signer-b", Lease: time.Minute}})
	if !reflect.DeepEqual(got, []string{other}) {
		t.Fatalf("BTC claim = %v, want %v", got, []string{other})
	}
	fresh := create(t, s, tenantA, simple("ETH", sig(2)))[0]
	if got := claimIDs(t, s, "signer-b", time.Minute, list); !reflect.DeepEqual(got, []string{fresh}) {
		t.Fatalf("signer-b claim after a new tx = %v, want %v", got, []string{fresh})
	}
	// Completed and deleted transactions are never returned, leased or not.
	if err := s.Complete(ctx, tenantA, ids[0], "0xaaaaaaaaaa"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, tenantA, ids[1], true); err != nil {
		t.Fatal(err)
	}
	if got := claimIDs(t, s, "signer-a", time.Minute, list); !reflect.DeepEqual(got, []string{ids[2]}) {
		t.Fatalf("claim after complete and delete = %v, want %v", got, []string{ids[2]})
	}
	// Another tenant's claim neither sees nor disturbs tenant A's leases.
	got = pendingIDs(t, s, pending.PendingQuery{Tenant: tenantB, Chain: "ETH", SignatureIDs: list, Claim: &pending.Claim{Signer: "signer-a", Lease: time.Minute}})
	if len(got) != 0 {
		t.Fatalf("tenant B claimed %v", got)
	}
}

// A dead signer's leases expire and another signer picks the work up.
func testLeaseExpiry(t *testing.T, s pending.Store) {
	ids := create(t, s, tenantA, simple("ETH", sig(1)), simple("ETH", sig(1)))
	const lease = 300 * time.Millisecond
	if got := claimIDs(t, s, "dead", lease, []string{sig(1)}); !reflect.DeepEqual(got, ids) {
		t.Fatalf("claim = %v, want %v", got, ids)
	}
	if got := claimIDs(t, s, "alive", time.Minute, []string{sig(1)}); len(got) != 0 {
		t.Fatalf("claimed %v under a running lease", got)
	}
	time.Sleep(lease + 200*time.Millisecond)
	if got := claimIDs(t, s, "alive", time.Minute, []string{sig(1)}); !reflect.DeepEqual(got, ids) {
		t.Fatalf("claim after expiry = %v, want %v", got, ids)
	}
	if got := claimIDs(t, s, "dead", lease, []string{sig(1)}); len(got) != 0 {
		t.Fatalf("the expired holder got back %v, now leased to another signer", got)
	}
}

// claimRace runs signers at once, each calling claim with its name until it
// returns false, and records who got each transaction: a transaction handed
// to two signers fails the test. It returns the owners.
func claimRace(t *testing.T, s pending.Store, signers int, claim func(name string) ([]pending.Tx, bool, error)) map[string]string {
	t.Helper()
	var (
		mu    sync.Mutex
		owner = map[string]string{}
		wg    sync.WaitGroup
		errs  = make(chan error, signers)
	)
	for w := range signers {
		wg.Go(func() {
			name := fmt.Sprintf("signer-%d", w)
			for {
				got, more, err := claim(name)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, tx := range got {
					if o, ok := owner[tx.ID]; ok && o != name {
						mu.Unlock()
						errs <- fmt.Errorf("%s leased to both %s and %s", tx.ID, o, name)
						return
					}
					owner[tx.ID] = name
				}
				mu.Unlock()
				if !more {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return owner
}

// Concurrent claims of different signers never hand out a transaction twice,
// and between them they claim everything.
func testLeaseConcurrentClaims(t *testing.T, s pending.Store) {
	const n, signers = 120, 6
	var txs []pending.NewTx
	for i := range n {
		txs = append(txs, simple("ETH", sig(i%7)))
	}
	ids := create(t, s, tenantA, txs...)
	list := []string{sig(0), sig(1), sig(2), sig(3), sig(4), sig(5), sig(6)}
	rounds := map[string]int{}
	var mu sync.Mutex
	owner := claimRace(t, s, signers, func(name string) ([]pending.Tx, bool, error) {
		mu.Lock()
		rounds[name]++
		more := rounds[name] < 4
		mu.Unlock()
		got, err := s.Pending(context.Background(), pending.PendingQuery{Tenant: tenantA, Chain: "ETH",
			SignatureIDs: list, Claim: &pending.Claim{Signer: name, Lease: time.Minute}})
		return got, more, err
	})
	var claimed []string
	for id := range owner {
		claimed = append(claimed, id)
	}
	slices.Sort(claimed)
	want := slices.Clone(ids)
	slices.Sort(want)
	if !reflect.DeepEqual(claimed, want) {
		t.Fatalf("claimed %d of %d transactions", len(claimed), len(want))
	}
}

func claimMax(t *testing.T, s pending.Store, signer string, max int, ids []string) []string {
	t.Helper()
	return pendingIDs(t, s, pending.PendingQuery{Tenant: tenantA, Chain: "ETH", SignatureIDs: ids,
		Claim: &pending.Claim{Signer: signer, Lease: time.Minute, Max: max}})
}

// A claim with Max takes the Max oldest free transactions, so two signers
// split a backlog; the holder's renewals only fill what is left of its Max.
func testLeaseMax(t *testing.T, s pending.Store) {
	var txs []pending.NewTx
	for i := range 7 {
		txs = append(txs, simple("ETH", sig(i%3)))
	}
	ids := create(t, s, tenantA, txs...)
	list := []string{sig(0), sig(1), sig(2)}
	for _, l := range [][]string{list, nil} {
		// Without a list the query names every wallet: the same rule applies.
		if l == nil {
			ids = append(ids[:0:0], create(t, s, tenantA, txs...)...)
		}
		if got := claimMax(t, s, "signer-a", 3, l); !reflect.DeepEqual(got, ids[:3]) {
			t.Fatalf("signer-a Max 3 = %v, want the three oldest %v", got, ids[:3])
		}
		if got := claimMax(t, s, "signer-b", 3, l); !reflect.DeepEqual(got, ids[3:6]) {
			t.Fatalf("signer-b Max 3 = %v, want the next three %v", got, ids[3:6])
		}
		// The free one first, then the oldest of its own to fill Max.
		if got, want := claimMax(t, s, "signer-a", 2, l), []string{ids[0], ids[6]}; !reflect.DeepEqual(got, want) {
			t.Fatalf("signer-a Max 2 = %v, want the free one and its oldest %v", got, want)
		}
		if got := claimMax(t, s, "signer-c", 5, l); len(got) != 0 {
			t.Fatalf("signer-c claimed %v with everything leased", got)
		}
		if got := claimMax(t, s, "signer-d", 0, l); len(got) != 0 {
			t.Fatalf("signer-d claimed %v with everything leased", got)
		}
		if l != nil {
			for _, id := range ids {
				if err := s.Complete(context.Background(), tenantA, id, "0x"+id); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// A signer holding Max leased transactions that it never completes (they keep
// failing) still gets newer free ones: a claim takes free work before it
// renews, and once its leases lapse the old transactions come back, oldest
// first, so every transaction is reached.
func testLeaseMaxNoStarvation(t *testing.T, s pending.Store) {
	for _, l := range [][]string{{sig(0), sig(1)}, nil} {
		ids := create(t, s, tenantA, simple("ETH", sig(0)), simple("ETH", sig(1)))
		if got := claimMax(t, s, "stuck", 2, l); !reflect.DeepEqual(got, ids) {
			t.Fatalf("first claim = %v, want %v", got, ids)
		}
		newer := create(t, s, tenantA, simple("ETH", sig(1)), simple("ETH", sig(0)), simple("ETH", sig(1)))
		if got := claimMax(t, s, "stuck", 2, l); !reflect.DeepEqual(got, newer[:2]) {
			t.Fatalf("claim while holding Max = %v, want the newer free %v", got, newer[:2])
		}
		if got, want := claimMax(t, s, "stuck", 2, l), []string{ids[0], newer[2]}; !reflect.DeepEqual(got, want) {
			t.Fatalf("next claim = %v, want the last free one and its oldest lease %v", got, want)
		}
		// Once its leases lapse they are free again, oldest first.
		got := pendingIDs(t, s, pending.PendingQuery{Tenant: tenantA, Chain: "ETH", SignatureIDs: l,
			Claim: &pending.Claim{Signer: "stuck", Lease: time.Millisecond, Max: 5}})
		if want := append(slices.Clone(ids), newer...); !reflect.DeepEqual(got, want) {
			t.Fatalf("claim of all = %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
		if got := claimMax(t, s, "stuck", 2, l); !reflect.DeepEqual(got, ids) {
			t.Fatalf("claim after the leases lapsed = %v, want the oldest %v", got, ids)
		}
		for _, id := range append(ids, newer...) {
			if err := s.Complete(context.Background(), tenantA, id, "0x"+id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Signers claiming with Max at once until nothing is left never share a
// transaction and between them take all of it, at most Max per claim. Each
// completes what it got before claiming again, as a daemon does.
func testLeaseMaxConcurrent(t *testing.T, s pending.Store) {
	const n, signers, max = 150, 3, 10
	var txs []pending.NewTx
	for i := range n {
		txs = append(txs, simple("ETH", sig(i%5)))
	}
	ids := create(t, s, tenantA, txs...)
	list := []string{sig(0), sig(1), sig(2), sig(3), sig(4)}
	owner := claimRace(t, s, signers, func(name string) ([]pending.Tx, bool, error) {
		ctx := context.Background()
		got, err := s.Pending(ctx, pending.PendingQuery{Tenant: tenantA, Chain: "ETH",
			SignatureIDs: list, Claim: &pending.Claim{Signer: name, Lease: time.Minute, Max: max}})
		if err != nil {
			return nil, false, err
		}
		if len(got) > max {
			return nil, false, fmt.Errorf("%s got %d transactions, Max is %d", name, len(got), max)
		}
		for _, tx := range got {
			if err := s.Complete(ctx, tenantA, tx.ID, "0x"+tx.ID); err != nil {
				return nil, false, err
			}
		}
		return got, len(got) > 0, nil
	})
	if len(owner) != len(ids) {
		t.Fatalf("claimed %d of %d transactions", len(owner), len(ids))
	}
}

// Completing and deleting are safe under concurrent callers: exactly one
// outcome wins and every other caller gets the answer for that outcome; a
// signed transaction stored meanwhile is accepted, or ErrNotFound once deleted.
func testConcurrentCompleteDelete(t *testing.T, s pending.Store) {
	ctx := context.Background()
	for round := range 10 {
		id := create(t, s, tenantA, simple("ETH", sig(round)))[0]
		var (
			wg                        sync.WaitGroup
			mu                        sync.Mutex
			completed, deleted, other int
			errs, setErrs             []error
		)
		for range 2 { // a broadcast storing its signed data meanwhile
			wg.Go(func() {
				err := s.SetTxData(ctx, tenantA, id, "0xsigned")
				mu.Lock()
				defer mu.Unlock()
				setErrs = append(setErrs, err)
			})
		}
		for w := range 8 {
			wg.Go(func() {
				var err error
				if w%2 == 0 {
					err = s.Complete(ctx, tenantA, id, "0xsame000000")
				} else {
					_, err = s.Delete(ctx, tenantA, id, true)
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && w%2 == 0:
					completed++
				case err == nil:
					deleted++
				default:
					other++
					errs = append(errs, err)
				}
			})
		}
		wg.Wait()
		tx, getErr := s.Get(ctx, tenantA, id)
		switch {
		case completed > 0 && deleted > 0:
			t.Fatalf("round %d: both completed (%d) and deleted (%d)", round, completed, deleted)
		case completed == 4:
			if getErr != nil || tx.TxID != "0xsame000000" {
				t.Fatalf("round %d: completed but Get = %+v, %v", round, tx, getErr)
			}
			for _, err := range errs {
				wantErr(t, "delete of a completed tx", err, pending.ErrCompleted)
			}
			for _, err := range setErrs {
				if err != nil {
					t.Fatalf("round %d: SetTxData beside a complete = %v", round, err)
				}
			}
		case deleted == 1:
			for _, err := range errs {
				if !errorsIsAny(err, pending.ErrDeleted, pending.ErrNotFound) {
					t.Fatalf("round %d: loser answered %v", round, err)
				}
			}
			for _, err := range setErrs {
				if err != nil && !errors.Is(err, pending.ErrNotFound) {
					t.Fatalf("round %d: SetTxData beside a delete = %v", round, err)
				}
			}
		default:
			t.Fatalf("round %d: completed %d, deleted %d, errors %v", round, completed, deleted, errs)
		}
	}
}

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
