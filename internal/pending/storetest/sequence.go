package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/custoskms/custos/internal/pending"
)

// Pair opens a fresh, empty store and returns with it a function that opens
// another handle on the same database: a second replica, or the same store
// after a restart. The test closes every store it gets.
type Pair func(t *testing.T) (pending.Store, func(t *testing.T) pending.Store)

// RunSequences runs the account-sequence contract against the stores open returns.
func RunSequences(t *testing.T, open Pair) {
	tests := []struct {
		name string
		f    func(*testing.T, pending.Store, func(*testing.T) pending.Store)
	}{
		{"ConcurrentAllocation", testSeqConcurrent},
		{"Given", testSeqGiven},
		{"Floor", testSeqFloor},
		{"KeysApart", testSeqKeysApart},
		{"DeleteLastReused", testSeqDeleteLast},
		{"DeleteMiddleHole", testSeqDeleteMiddle},
		{"Fail", testSeqFail},
		{"Restart", testSeqRestart},
		{"NextSequence", testSeqNext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, again := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.f(t, s, again)
		})
	}
}

var seqKey = pending.SeqKey{Chain: "ETH", Testnet: true, Sender: "0x00000000000000000000000000000000000000aa"}

// seqTx is a transaction that asks for key's next sequence with the node at
// floor; its serialized form shows the sequence it got ("nonce=N").
func seqTx(key pending.SeqKey, floor uint64, n int) pending.NewTx {
	idx := uint32(n)
	return pending.NewTx{Chain: key.Chain, SerializedTransaction: "unset", Hashes: []string{sig(n)}, Index: &idx,
		Sequence: &pending.SeqRequest{Key: key, Floor: floor, Render: func(seq uint64) (string, error) {
			return fmt.Sprintf("nonce=%d", seq), nil
		}}}
}

// allocate queues one transaction without a sequence and returns its id and the sequence it got.
func allocate(t *testing.T, s pending.Store, tenant string, key pending.SeqKey, floor uint64) (string, uint64) {
	t.Helper()
	ids := create(t, s, tenant, seqTx(key, floor, 1))
	return ids[0], seqOf(t, s, tenant, ids[0])
}

// allocateN queues n transactions of key one after the other and returns
// their ids, so the first holds the lowest sequence.
func allocateN(t *testing.T, s pending.Store, tenant string, key pending.SeqKey, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		id, _ := allocate(t, s, tenant, key, 0)
		ids = append(ids, id)
	}
	return ids
}

func seqOf(t *testing.T, s pending.Store, tenant, id string) uint64 {
	t.Helper()
	tx, err := s.Get(context.Background(), tenant, id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(tx.SerializedTransaction, "nonce="), 10, 64)
	if err != nil {
		t.Fatalf("stored transaction %q carries no allocated sequence", tx.SerializedTransaction)
	}
	return n
}

func wantSeq(t *testing.T, what string, got, want uint64) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: sequence %d, want %d", what, got, want)
	}
}

// 200 queue requests for one sender at once, spread over two handles on one
// database (two replicas), get every sequence 0..199 exactly once.
func testSeqConcurrent(t *testing.T, s pending.Store, again func(*testing.T) pending.Store) {
	s2 := again(t)
	defer s2.Close()
	const n = 200
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ids  []string
		errs []error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := s
			if i%2 == 1 {
				h = s2
			}
			got, err := h.Create(context.Background(), tenantA, seqTx(seqKey, 0, i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			ids = append(ids, got...)
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d creates failed, first: %v", len(errs), n, errs[0])
	}
	seqs := make([]uint64, 0, n)
	for _, id := range ids {
		seqs = append(seqs, seqOf(t, s, tenantA, id))
	}
	slices.Sort(seqs)
	for i, q := range seqs {
		if q != uint64(i) {
			t.Fatalf("sorted sequences %v: position %d holds %d (a sequence handed out twice or skipped)", seqs, i, q)
		}
	}
}

// A given sequence is kept and the next allocation goes past it; one below
// next changes nothing.
func testSeqGiven(t *testing.T, s pending.Store, _ func(*testing.T) pending.Store) {
	given := func(seq uint64) {
		tx := simple("ETH", sig(9))
		tx.SerializedTransaction = fmt.Sprintf("nonce=%d", seq)
		tx.Sequence = &pending.SeqRequest{Key: seqKey, Given: &seq}
		id := create(t, s, tenantA, tx)[0]
		wantSeq(t, "given", seqOf(t, s, tenantA, id), seq)
	}
	given(5)
	_, got := allocate(t, s, tenantA, seqKey, 0)
	wantSeq(t, "after a given 5", got, 6)
	given(2)
	_, got = allocate(t, s, tenantA, seqKey, 0)
	wantSeq(t, "after a given 2 below next", got, 7)
}

// The node's floor above next is jumped to; below it, next wins.
func testSeqFloor(t *testing.T, s pending.Store, _ func(*testing.T) pending.Store) {
	_, got := allocate(t, s, tenantA, seqKey, 3)
	wantSeq(t, "first with floor 3", got, 3)
	_, got = allocate(t, s, tenantA, seqKey, 0)
	wantSeq(t, "floor 0", got, 4)
	_, got = allocate(t, s, tenantA, seqKey, 10)
	wantSeq(t, "floor 10", got, 10)
	_, got = allocate(t, s, tenantA, seqKey, 2)
	wantSeq(t, "floor 2", got, 11)
}

// Each chain, network and sender has its own sequence; tenants share one.
func testSeqKeysApart(t *testing.T, s pending.Store, _ func(*testing.T) pending.Store) {
	allocate(t, s, tenantA, seqKey, 0)
	others := []pending.SeqKey{
		{Chain: "BSC", Testnet: true, Sender: seqKey.Sender},
		{Chain: "ETH", Testnet: false, Sender: seqKey.Sender},
		{Chain: "ETH", Testnet: true, Sender: "0x00000000000000000000000000000000000000bb"},
	}
	for _, k := range others {
		_, got := allocate(t, s, tenantA, k, 0)
		wantSeq(t, k.String(), got, 0)
	}
	_, got := allocate(t, s, tenantB, seqKey, 0)
	wantSeq(t, "another tenant, same sender", got, 1)
}

// NextSequence answers what the next allocation at floor 0 gets, and
// reading it reserves nothing: the allocation after two reads gets it.
func testSeqNext(t *testing.T, s pending.Store, _ func(*testing.T) pending.Store) {
	ctx := context.Background()
	next := func(what string, key pending.SeqKey, want uint64) {
		t.Helper()
		got, err := s.NextSequence(ctx, key)
		if err != nil {
			t.Fatalf("%s: NextSequence: %v", what, err)
		}
		wantSeq(t, what, got, want)
	}
	next("none yet", seqKey, 0)
	ids := allocateN(t, s, tenantA, seqKey, 3)
	next("after 0, 1, 2", seqKey, 3)
	next("read again", seqKey, 3)
	_, got := allocate(t, s, tenantA, seqKey, 0)
	wantSeq(t, "allocated after two reads", got, 3)
	seq := uint64(9)
	tx := simple("ETH", sig(9))
	tx.Sequence = &pending.SeqRequest{Key: seqKey, Given: &seq}
	create(t, s, tenantB, tx)
	next("after a given 9 of another tenant", seqKey, 10)
	next("another sender", pending.SeqKey{Chain: "ETH", Testnet: true, Sender: "0x00000000000000000000000000000000000000bb"}, 0)
	next("another network", pending.SeqKey{Chain: "ETH", Sender: seqKey.Sender}, 0)
	if _, err := s.Fail(ctx, tenantA, ids[0], "nonce too low"); err != nil {
		t.Fatal(err)
	}
	next("a freed sequence below live ones", seqKey, 10)
}

// Deleting the highest sequence gives it back: the next allocation reuses it.
func testSeqDeleteLast(t *testing.T, s pending.Store, _ func(*testing.T) pending.Store) {
	ctx := context.Background()
	ids := allocateN(t, s, tenantA, seqKey, 3)
	hole, err := s.Delete(ctx, tenantA, ids[2], true)
	if err != nil || hole != nil {
		t.Fatalf("Delete of the last = %+v, %v; want no hole", hole, err)
	}
	hole, err = s.Delete(ctx, tenantA, ids[1], true)
	if err != nil || hole != nil {
		t.Fatalf("Delete of the new last = %+v, %v; want no hole", hole, err)
	}
	_, got := allocate(t, s, tenantA, seqKey, 0)
	wantSeq(t, "after deleting 2 and 1", got, 1)
}

// Deleting one below a live sequence leaves a hole, reported with what a
// filler needs; the freed sequence is not handed out again.
func testSeqDeleteMiddle(t *testing.T, s pending.Store, _ func(*testing.T) pending.Store) {
	ctx := context.Background()
	ids := allocateN(t, s, tenantA, seqKey, 4)
	hole, err := s.Delete(ctx, tenantA, ids[1], true)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	want := &pending.Hole{Key: seqKey, Seq: 1, Hashes: []string{sig(1)}, Index: u32(1)}
	if !reflect.DeepEqual(hole, want) {
		t.Fatalf("hole = %+v, want %+v", hole, want)
	}
	_, got := allocate(t, s, tenantA, seqKey, 0)
	wantSeq(t, "after a hole", got, 4)
	// A completed transaction holds its sequence for good.
	if err := s.Complete(ctx, tenantA, ids[3], "0xaaaaaaaaaa"); err != nil {
		t.Fatal(err)
	}
	if hole, err := s.Delete(ctx, tenantA, ids[2], true); err != nil || hole == nil || hole.Seq != 2 {
		t.Fatalf("Delete below a completed one = %+v, %v; want a hole at 2", hole, err)
	}
}

// A failed transaction leaves the pending set with its reason kept and
// frees its sequence like a deletion, once.
func testSeqFail(t *testing.T, s pending.Store, _ func(*testing.T) pending.Store) {
	ctx := context.Background()
	ids := allocateN(t, s, tenantA, seqKey, 3)
	hole, err := s.Fail(ctx, tenantA, ids[0], "nonce too low")
	if err != nil || hole == nil || hole.Seq != 0 {
		t.Fatalf("Fail of the first = %+v, %v; want a hole at 0", hole, err)
	}
	if hole, err := s.Fail(ctx, tenantA, ids[0], "again"); err != nil || hole != nil {
		t.Fatalf("second Fail = %+v, %v; want nothing", hole, err)
	}
	if msgs, err := s.Errors(ctx, tenantA, ids[0]); err != nil || !reflect.DeepEqual(msgs, []string{"nonce too low"}) {
		t.Fatalf("Errors = %q, %v", msgs, err)
	}
	q := pending.PendingQuery{Tenant: tenantA, Chain: "ETH"}
	if got := pendingIDs(t, s, q); !reflect.DeepEqual(got, ids[1:]) {
		t.Fatalf("Pending after Fail = %v, want %v", got, ids[1:])
	}
	q.SignatureIDs = []string{sig(1)}
	if got := pendingIDs(t, s, q); !reflect.DeepEqual(got, ids[1:]) {
		t.Fatalf("Pending by signature ID after Fail = %v, want %v", got, ids[1:])
	}
	q.Claim = &pending.Claim{Signer: "s1", Lease: 60e9}
	if got := pendingIDs(t, s, q); !reflect.DeepEqual(got, ids[1:]) {
		t.Fatalf("claim after Fail = %v, want %v", got, ids[1:])
	}
	// Deleting a failed transaction frees nothing again.
	if hole, err := s.Delete(ctx, tenantA, ids[0], true); err != nil || hole != nil {
		t.Fatalf("Delete of a failed one = %+v, %v", hole, err)
	}
	if hole, err := s.Fail(ctx, tenantA, ids[2], "insufficient funds"); err != nil || hole != nil {
		t.Fatalf("Fail of the last = %+v, %v; want no hole", hole, err)
	}
	_, got := allocate(t, s, tenantA, seqKey, 0)
	wantSeq(t, "after the last failed", got, 2)
	if err := s.Complete(ctx, tenantA, ids[1], "0xbbbbbbbbbb"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Fail(ctx, tenantA, ids[1], "late")
	wantErr(t, "Fail completed", err, pending.ErrCompleted)
	_, err = s.Fail(ctx, tenantB, ids[2], "foreign")
	wantErr(t, "Fail foreign", err, pending.ErrNotFound)
}

// A store reopened (the server restarted) goes on where it stopped.
func testSeqRestart(t *testing.T, s pending.Store, again func(*testing.T) pending.Store) {
	allocateN(t, s, tenantA, seqKey, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := again(t)
	defer s2.Close()
	_, got := allocate(t, s2, tenantA, seqKey, 0)
	wantSeq(t, "after a restart", got, 3)
}
