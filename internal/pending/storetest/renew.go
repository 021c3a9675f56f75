package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

func renew(t *testing.T, s pending.Store, tenant, signer string, lease time.Duration, ids ...string) []string {
	t.Helper()
	got, err := s.Renew(context.Background(), tenant, signer, ids, lease)
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if got == nil {
		t.Fatal("Renew returned nil, want a non-nil slice")
	}
	return got
}

// A renewal moves the end of the signer's own leases, running or expired,
// and leaves every other lease as it was: whether a lease moved shows in
// what another signer's claim gets once the short leases ran out.
func testLeaseRenew(t *testing.T, s pending.Store) {
	const short = 300 * time.Millisecond
	list := []string{sig(1), sig(2), sig(3), sig(4)}
	ids := create(t, s, tenantA, simple("ETH", sig(1)), simple("ETH", sig(2)), simple("ETH", sig(3)), simple("ETH", sig(4)))
	if got := claimIDs(t, s, "a", short, list[:3]); !reflect.DeepEqual(got, ids[:3]) {
		t.Fatalf("a's claim = %v, want %v", got, ids[:3])
	}
	if got := claimIDs(t, s, "b", short, list[3:]); !reflect.DeepEqual(got, ids[3:]) {
		t.Fatalf("b's claim = %v, want %v", got, ids[3:])
	}
	// A running lease of a's is renewed; b's is not a's to renew.
	if got := renew(t, s, tenantA, "a", time.Minute, ids[3], ids[0]); !reflect.DeepEqual(got, ids[:1]) {
		t.Fatalf("a's renewal of a running lease = %v, want %v", got, ids[:1])
	}
	time.Sleep(short + 200*time.Millisecond)
	// An expired lease nobody claimed since is still a's: renewed, and
	// named once though asked twice; an unknown id and b's expired lease
	// are left out.
	unknown := pending.NewID()
	if got := renew(t, s, tenantA, "a", time.Minute, unknown, ids[1], ids[3], ids[1]); !reflect.DeepEqual(got, ids[1:2]) {
		t.Fatalf("a's renewal after the short leases ran out = %v, want %v", got, ids[1:2])
	}
	// c gets what was not renewed: a's unrenewed ids[2], and b's ids[3],
	// whose lease a's attempts left as it was; ids[0] is still a's by its
	// renewal while its lease ran.
	if got := claimIDs(t, s, "c", time.Minute, list); !reflect.DeepEqual(got, ids[2:]) {
		t.Fatalf("c's claim = %v, want %v", got, ids[2:])
	}
	// Rows c claimed are c's now: the previous owners renew nothing, and
	// their attempts leave c's leases alone. The answer keeps the request's
	// order.
	if got := renew(t, s, tenantA, "a", time.Minute, ids[3], ids[1], ids[2], ids[0]); !reflect.DeepEqual(got, []string{ids[1], ids[0]}) {
		t.Fatalf("a's renewal after c's claim = %v, want %v", got, []string{ids[1], ids[0]})
	}
	if got := renew(t, s, tenantA, "b", time.Minute, ids...); len(got) != 0 {
		t.Fatalf("b renewed %v, now leased to a and c", got)
	}
	if got := claimIDs(t, s, "b", time.Minute, list); len(got) != 0 {
		t.Fatalf("b claimed %v, leased to a and c", got)
	}
	if got := renew(t, s, tenantA, "c", time.Minute, ids...); !reflect.DeepEqual(got, ids[2:]) {
		t.Fatalf("c's renewal = %v, want %v", got, ids[2:])
	}
}

// Only pending transactions of the caller's tenant that are leased to the
// signer are renewed; the rest is left out without an error, and a renewal
// never leases a transaction.
func testLeaseRenewOnlyLeasedPending(t *testing.T, s pending.Store) {
	ctx := context.Background()
	list := []string{sig(1), sig(2), sig(3), sig(4)}
	ids := create(t, s, tenantA, simple("ETH", sig(1)), simple("ETH", sig(2)), simple("ETH", sig(3)), simple("ETH", sig(4)))
	foreign := create(t, s, tenantB, simple("ETH", sig(1)))[0]
	if got := claimIDs(t, s, "a", time.Minute, list); !reflect.DeepEqual(got, ids) {
		t.Fatalf("claim = %v, want %v", got, ids)
	}
	got := pendingIDs(t, s, pending.PendingQuery{Tenant: tenantB, Chain: "ETH", Claim: &pending.Claim{Signer: "a", Lease: time.Minute}})
	if !reflect.DeepEqual(got, []string{foreign}) {
		t.Fatalf("tenant B's claim = %v, want %v", got, []string{foreign})
	}
	if err := s.Complete(ctx, tenantA, ids[0], "0xaaaaaaaaaa"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, tenantA, ids[1], true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fail(ctx, tenantA, ids[2], "nonce too low"); err != nil {
		t.Fatal(err)
	}
	all := append(append([]string{}, ids...), foreign)
	if got := renew(t, s, tenantA, "a", time.Minute, all...); !reflect.DeepEqual(got, ids[3:]) {
		t.Fatalf("renewal past completed, deleted, failed and foreign ids = %v, want %v", got, ids[3:])
	}
	if got := renew(t, s, tenantB, "a", time.Minute, ids...); len(got) != 0 {
		t.Fatalf("tenant B renewed tenant A's %v", got)
	}
	for _, none := range [][]string{{}, nil} {
		if got := renew(t, s, tenantA, "a", time.Minute, none...); len(got) != 0 {
			t.Fatalf("an empty renewal = %v", got)
		}
	}
	// A transaction never leased is not renewed, and stays free.
	fresh := create(t, s, tenantA, simple("ETH", sig(5)))[0]
	if got := renew(t, s, tenantA, "a", time.Minute, fresh); len(got) != 0 {
		t.Fatalf("renewed %v, never leased", got)
	}
	if got := claimIDs(t, s, "b", time.Minute, []string{sig(5)}); !reflect.DeepEqual(got, []string{fresh}) {
		t.Fatalf("b's claim of a transaction a renewed but never held = %v, want %v", got, []string{fresh})
	}
	// A renewal without a signer or a lease is a caller's bug, refused.
	for _, bad := range []struct {
		signer string
		lease  time.Duration
	}{{"", time.Minute}, {"a", 0}} {
		if _, err := s.Renew(ctx, tenantA, bad.signer, ids, bad.lease); err == nil {
			t.Errorf("Renew(%q, %v) succeeded", bad.signer, bad.lease)
		}
	}
}

// A renewal racing another signer's claim of the same expired leases splits
// them: each transaction is either renewed by its owner or claimed by the
// other signer, never both and never neither.
func testLeaseRenewRace(t *testing.T, s pending.Store) {
	const n, short = 60, 100 * time.Millisecond
	for round := range 3 {
		sg := sig(100 + round)
		txs := make([]pending.NewTx, n)
		for i := range txs {
			txs[i] = simple("ETH", sg)
		}
		ids := create(t, s, tenantA, txs...)
		if got := claimIDs(t, s, "a", short, []string{sg}); len(got) != n {
			t.Fatalf("a's claim got %d of %d", len(got), n)
		}
		time.Sleep(short + 100*time.Millisecond)
		var (
			wg                 sync.WaitGroup
			renewed, claimed   []string
			renewErr, claimErr error
		)
		wg.Go(func() { renewed, renewErr = s.Renew(context.Background(), tenantA, "a", ids, time.Minute) })
		wg.Go(func() {
			var txs []pending.Tx
			txs, claimErr = s.Pending(context.Background(), pending.PendingQuery{Tenant: tenantA, Chain: "ETH", SignatureIDs: []string{sg},
				Claim: &pending.Claim{Signer: "b", Lease: time.Minute}})
			for _, tx := range txs {
				claimed = append(claimed, tx.ID)
			}
		})
		wg.Wait()
		if err := errors.Join(renewErr, claimErr); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, id := range renewed {
			got[id] = "a"
		}
		for _, id := range claimed {
			if got[id] != "" {
				t.Fatalf("round %d: %s renewed by a and claimed by b", round, id)
			}
			got[id] = "b"
		}
		if len(got) != n {
			t.Fatalf("round %d: %d renewed and %d claimed of %d", round, len(renewed), len(claimed), n)
		}
	}
}
