// Package storetest is the contract every pending.Store implementation must
// keep, written once: a backend's test calls Run with a function that opens a
// fresh, empty store.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/custoskms/custos/internal/pending"
)

// Opener returns a new empty store; the test closes it.
type Opener func(t *testing.T) pending.Store

// Run runs the contract suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		f    func(*testing.T, pending.Store)
	}{
		{"CreateGetRoundTrip", testCreateGet},
		{"CreateMany", testCreateMany},
		{"PendingMatching", testPendingMatching},
		{"PendingOrderAndChain", testPendingOrderAndChain},
		{"Complete", testComplete},
		{"Delete", testDelete},
		{"TxData", testTxData},
		{"RecordErrors", testRecordErrors},
		{"TenantIsolation", testTenantIsolation},
		{"Keys", testKeys},
		{"ConcurrentWrites", testConcurrentWrites},
		{"ConcurrentCompleteDelete", testConcurrentCompleteDelete},
		{"ConcurrentWritesOneFails", testConcurrentWritesOneFails},
		{"LeaseExclusive", testLeaseExclusive},
		{"LeaseExpiry", testLeaseExpiry},
		{"LeaseConcurrentClaims", testLeaseConcurrentClaims},
		{"LeaseMax", testLeaseMax},
		{"LeaseMaxConcurrent", testLeaseMaxConcurrent},
		{"LeaseMaxNoStarvation", testLeaseMaxNoStarvation},
		{"LeaseRenew", testLeaseRenew},
		{"LeaseRenewOnlyLeasedPending", testLeaseRenewOnlyLeasedPending},
		{"LeaseRenewRace", testLeaseRenewRace},
	}
	tests = append(tests, hookTests...)
	tests = append(tests, trackTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			if err := s.Ping(context.Background()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			tc.f(t, s)
		})
	}
}

const (
	tenantA = "aaaaaaaaaaaaaaaaaaaaaaaa"
	tenantB = "bbbbbbbbbbbbbbbbbbbbbbbb"
)

func u32(v uint32) *uint32 { return &v }

// sig makes a deterministic UUID-shaped signature ID.
func sig(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func create(t *testing.T, s pending.Store, tenant string, txs ...pending.NewTx) []string {
	t.Helper()
	ids, err := s.Create(context.Background(), tenant, txs...)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if len(ids) != len(txs) {
		t.Fatalf("Create returned %d ids for %d txs", len(ids), len(txs))
	}
	return ids
}

func simple(chain string, hashes ...string) pending.NewTx {
	return pending.NewTx{Chain: chain, SerializedTransaction: `{"n":1}`, Hashes: hashes}
}

func pendingIDs(t *testing.T, s pending.Store, q pending.PendingQuery) []string {
	t.Helper()
	txs, err := s.Pending(context.Background(), q)
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	if txs == nil {
		t.Fatal("Pending returned nil, want a non-nil slice")
	}
	ids := []string{}
	for _, tx := range txs {
		ids = append(ids, tx.ID)
	}
	return ids
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

func testCreateGet(t *testing.T, s pending.Store) {
	ctx := context.Background()
	in := pending.NewTx{
		Chain:                 "BTC",
		SerializedTransaction: `{"fromUTXO":[]}`,
		Hashes:                []string{sig(1)},
		Index:                 u32(7),
		Signatures:            []pending.Signature{{ID: sig(2), Index: u32(0)}, {ID: sig(3), Index: u32(5)}},
		WithdrawalID:          "w-1",
		WithdrawalResponses:   json.RawMessage(`[{"address":"a","amount":"1"}]`),
	}
	id := create(t, s, tenantA, in)[0]
	if len(id) != 24 {
		t.Fatalf("id %q is not 24 chars", id)
	}
	got, err := s.Get(ctx, tenantA, id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want := pending.Tx{ID: id, Chain: "BTC", SerializedTransaction: in.SerializedTransaction, Hashes: in.Hashes,
		Index: u32(7), Signatures: in.Signatures, WithdrawalID: "w-1", WithdrawalResponses: in.WithdrawalResponses,
		State: pending.StateQueued}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Get:\n got %+v\nwant %+v", got, want)
	}

	// Optional fields stay unset and hashes is never nil.
	id2 := create(t, s, tenantA, pending.NewTx{Chain: "ETH", SerializedTransaction: "0x01",
		Signatures: []pending.Signature{{ID: sig(9), Index: u32(1)}}})[0]
	got, err = s.Get(ctx, tenantA, id2)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Hashes == nil || len(got.Hashes) != 0 || got.Index != nil || got.WithdrawalID != "" || got.TxID != "" || got.WithdrawalResponses != nil {
		t.Fatalf("unset fields came back set: %+v", got)
	}
	b, _ := json.Marshal(got)
	want2 := `{"id":"` + id2 + `","chain":"ETH","serializedTransaction":"0x01","hashes":[],"signatures":[{"id":"` + sig(9) + `","index":1}]}`
	if string(b) != want2 {
		t.Fatalf("JSON %s, want %s", b, want2)
	}

	_, err = s.Get(ctx, tenantA, "ffffffffffffffffffffffff")
	wantErr(t, "Get unknown", err, pending.ErrNotFound)
}

func testCreateMany(t *testing.T, s pending.Store) {
	var txs []pending.NewTx
	for i := range 50 {
		txs = append(txs, simple("ETH", sig(i)))
	}
	ids := create(t, s, tenantA, txs...)
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
	got := pendingIDs(t, s, pending.PendingQuery{Tenant: tenantA, Chain: "ETH"})
	if !reflect.DeepEqual(got, ids) {
		t.Fatalf("pending order %v, want creation order %v", got, ids)
	}
}

func testPendingMatching(t *testing.T, s pending.Store) {
	byHash := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	bySig := create(t, s, tenantA, pending.NewTx{Chain: "ETH", SerializedTransaction: "x",
		Signatures: []pending.Signature{{ID: sig(2), Index: u32(0)}, {ID: sig(3), Index: u32(1)}}})[0]
	both := create(t, s, tenantA, pending.NewTx{Chain: "ETH", SerializedTransaction: "x",
		Hashes: []string{sig(1), sig(1)}, Signatures: []pending.Signature{{ID: sig(3)}}})[0]
	q := func(ids ...string) []string {
		return pendingIDs(t, s, pending.PendingQuery{Tenant: tenantA, Chain: "ETH", SignatureIDs: ids})
	}
	cases := []struct {
		ids  []string
		want []string
	}{
		{[]string{sig(1)}, []string{byHash, both}},
		{[]string{sig(2)}, []string{bySig}},
		{[]string{sig(3)}, []string{bySig, both}},
		{[]string{sig(3), sig(1), sig(2), sig(1)}, []string{byHash, bySig, both}},
		{[]string{sig(99)}, []string{}},
		{[]string{}, []string{}},
	}
	for _, c := range cases {
		if got := q(c.ids...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Pending(%v) = %v, want %v", c.ids, got, c.want)
		}
	}
	all := pendingIDs(t, s, pending.PendingQuery{Tenant: tenantA, Chain: "ETH"})
	if !reflect.DeepEqual(all, []string{byHash, bySig, both}) {
		t.Fatalf("Pending(all) = %v", all)
	}
}

func testPendingOrderAndChain(t *testing.T, s pending.Store) {
	ctx := context.Background()
	e1 := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	b1 := create(t, s, tenantA, simple("BTC", sig(1)))[0]
	e2 := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	e3 := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	e4 := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	if err := s.Complete(ctx, tenantA, e2, "0xdone00000000"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, tenantA, e3, true); err != nil {
		t.Fatal(err)
	}
	for _, ids := range [][]string{nil, {sig(1)}} {
		got := pendingIDs(t, s, pending.PendingQuery{Tenant: tenantA, Chain: "ETH", SignatureIDs: ids})
		if want := []string{e1, e4}; !reflect.DeepEqual(got, want) {
			t.Fatalf("ETH pending(%v) = %v, want %v (completed and deleted excluded)", ids, got, want)
		}
		got = pendingIDs(t, s, pending.PendingQuery{Tenant: tenantA, Chain: "BTC", SignatureIDs: ids})
		if want := []string{b1}; !reflect.DeepEqual(got, want) {
			t.Fatalf("BTC pending = %v, want %v", got, want)
		}
	}
}

func testComplete(t *testing.T, s pending.Store) {
	ctx := context.Background()
	id := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	if err := s.Complete(ctx, tenantA, id, "0xaaaaaaaaaa"); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if err := s.Complete(ctx, tenantA, id, "0xaaaaaaaaaa"); err != nil {
		t.Fatalf("Complete again with the same txId: %v", err)
	}
	wantErr(t, "Complete with another txId", s.Complete(ctx, tenantA, id, "0xbbbbbbbbbb"), pending.ErrTxIDConflict)
	got, err := s.Get(ctx, tenantA, id)
	if err != nil || got.TxID != "0xaaaaaaaaaa" {
		t.Fatalf("Get after complete: %+v, %v", got, err)
	}
	wantErr(t, "Complete unknown", s.Complete(ctx, tenantA, "ffffffffffffffffffffffff", "0xaaaaaaaaaa"), pending.ErrNotFound)
	del := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	if _, err := s.Delete(ctx, tenantA, del, false); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Complete deleted", s.Complete(ctx, tenantA, del, "0xaaaaaaaaaa"), pending.ErrDeleted)
}

func testDelete(t *testing.T, s pending.Store) {
	ctx := context.Background()
	w := pending.NewTx{Chain: "BTC", SerializedTransaction: "x", Hashes: []string{sig(1)}, WithdrawalID: "wd-42"}
	id := create(t, s, tenantA, w)[0]
	_, err := s.Deletion(ctx, tenantA, id)
	wantErr(t, "Deletion of a live tx", err, pending.ErrNotFound)
	if _, err := s.Delete(ctx, tenantA, id, true); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = s.Get(ctx, tenantA, id)
	wantErr(t, "Get deleted", err, pending.ErrNotFound)
	wantErr(t, "Delete twice", second(s.Delete(ctx, tenantA, id, true)), pending.ErrNotFound)
	d, err := s.Deletion(ctx, tenantA, id)
	if err != nil || d.ID != id || d.WithdrawalID != "wd-42" || !d.Revert || d.DeletedAt.IsZero() {
		t.Fatalf("Deletion = %+v, %v", d, err)
	}
	id2 := create(t, s, tenantA, w)[0]
	if _, err := s.Delete(ctx, tenantA, id2, false); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Deletion(ctx, tenantA, id2); err != nil || d.Revert {
		t.Fatalf("Deletion(revert=false) = %+v, %v", d, err)
	}
	done := create(t, s, tenantA, w)[0]
	if err := s.Complete(ctx, tenantA, done, "0xaaaaaaaaaa"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Delete completed", second(s.Delete(ctx, tenantA, done, true)), pending.ErrCompleted)
	wantErr(t, "Delete unknown", second(s.Delete(ctx, tenantA, "ffffffffffffffffffffffff", true)), pending.ErrNotFound)
}

func testTxData(t *testing.T, s pending.Store) {
	ctx := context.Background()
	id := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	if d, err := s.TxData(ctx, tenantA, id); err != nil || d != "" {
		t.Fatalf("TxData before = %q, %v", d, err)
	}
	for _, d := range []string{"0xfirst", "0xsecond"} {
		if err := s.SetTxData(ctx, tenantA, id, d); err != nil {
			t.Fatalf("SetTxData: %v", err)
		}
	}
	if d, _ := s.TxData(ctx, tenantA, id); d != "0xsecond" {
		t.Fatalf("TxData = %q, want the latest while pending", d)
	}
	if err := s.Complete(ctx, tenantA, id, "0xaaaaaaaaaa"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTxData(ctx, tenantA, id, "0xthird"); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.TxData(ctx, tenantA, id); d != "0xsecond" {
		t.Fatalf("TxData = %q, a completed tx keeps what was broadcast", d)
	}
	wantErr(t, "SetTxData unknown", s.SetTxData(ctx, tenantA, "ffffffffffffffffffffffff", "0x"), pending.ErrNotFound)
}

func testRecordErrors(t *testing.T, s pending.Store) {
	ctx := context.Background()
	id := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	n, err := s.RecordErrors(ctx, tenantA, []pending.TxError{
		{ID: id, Message: "approval refused"},
		{ID: "ffffffffffffffffffffffff", Message: "x"},
		{ID: id, Message: "insufficient funds"},
	})
	if err != nil || n != 2 {
		t.Fatalf("RecordErrors = %d, %v; want 2 known", n, err)
	}
	got, err := s.Errors(ctx, tenantA, id)
	if err != nil || !reflect.DeepEqual(got, []string{"approval refused", "insufficient funds"}) {
		t.Fatalf("Errors = %v, %v", got, err)
	}
	if last, n, err := s.LastError(ctx, tenantA, id); err != nil || last != "insufficient funds" || n != 2 {
		t.Fatalf("LastError = %q, %d, %v; want the latest of 2", last, n, err)
	}
	other := create(t, s, tenantA, simple("ETH", sig(2)))[0]
	if last, n, err := s.LastError(ctx, tenantA, other); err != nil || last != "" || n != 0 {
		t.Fatalf("LastError without reports = %q, %d, %v", last, n, err)
	}
	if _, err := s.Fail(ctx, tenantA, other, "nonce too low"); err != nil {
		t.Fatal(err)
	}
	if last, n, err := s.LastError(ctx, tenantA, other); err != nil || last != "nonce too low" || n != 1 {
		t.Fatalf("LastError after Fail = %q, %d, %v; want the failure's reason", last, n, err)
	}
}

func testTenantIsolation(t *testing.T, s pending.Store) {
	ctx := context.Background()
	id := create(t, s, tenantA, simple("ETH", sig(1)))[0]
	_, err := s.Get(ctx, tenantB, id)
	wantErr(t, "foreign Get", err, pending.ErrNotFound)
	wantErr(t, "foreign Complete", s.Complete(ctx, tenantB, id, "0xaaaaaaaaaa"), pending.ErrNotFound)
	wantErr(t, "foreign Delete", second(s.Delete(ctx, tenantB, id, true)), pending.ErrNotFound)
	wantErr(t, "foreign SetTxData", s.SetTxData(ctx, tenantB, id, "0x"), pending.ErrNotFound)
	_, err = s.TxData(ctx, tenantB, id)
	wantErr(t, "foreign TxData", err, pending.ErrNotFound)
	if n, err := s.RecordErrors(ctx, tenantB, []pending.TxError{{ID: id, Message: "x"}}); err != nil || n != 0 {
		t.Fatalf("foreign RecordErrors = %d, %v", n, err)
	}
	if _, err := s.RecordErrors(ctx, tenantA, []pending.TxError{{ID: id, Message: "own"}}); err != nil {
		t.Fatal(err)
	}
	if last, n, err := s.LastError(ctx, tenantB, id); err != nil || last != "" || n != 0 {
		t.Fatalf("foreign LastError = %q, %d, %v", last, n, err)
	}
	for _, ids := range [][]string{nil, {sig(1)}} {
		if got := pendingIDs(t, s, pending.PendingQuery{Tenant: tenantB, Chain: "ETH", SignatureIDs: ids}); len(got) != 0 {
			t.Fatalf("tenant B sees %v", got)
		}
	}
	if _, err := s.Delete(ctx, tenantA, id, true); err != nil {
		t.Fatal(err)
	}
	_, err = s.Deletion(ctx, tenantB, id)
	wantErr(t, "foreign Deletion", err, pending.ErrNotFound)
	// The owner's transaction is untouched by the foreign calls.
	if errs, _ := s.Errors(ctx, tenantA, id); len(errs) != 1 {
		t.Fatalf("foreign error report was recorded: %v", errs)
	}
}

func testKeys(t *testing.T, s pending.Store) {
	ctx := context.Background()
	h1, h2 := sha256.Sum256([]byte("secret-1")), sha256.Sum256([]byte("secret-2"))
	k1, err := s.CreateKey(ctx, "app", false, pending.AllScopes, h1)
	if err != nil || len(k1.ID) != 24 || k1.Name != "app" || k1.Testnet || k1.Scopes != pending.AllScopes {
		t.Fatalf("CreateKey = %+v, %v", k1, err)
	}
	k2, err := s.CreateKey(ctx, "", true, pending.ScopeSign|pending.ScopeAdmin, h2)
	if err != nil || !k2.Testnet {
		t.Fatalf("CreateKey testnet = %+v, %v", k2, err)
	}
	_, err = s.CreateKey(ctx, "dup", false, pending.AllScopes, h1)
	wantErr(t, "CreateKey with a duplicate hash", err, pending.ErrKeyExists)
	for _, bad := range []pending.Scopes{0, pending.AllScopes + 1} {
		_, err = s.CreateKey(ctx, "noscope", false, bad, sha256.Sum256([]byte("secret-3")))
		wantErr(t, fmt.Sprintf("CreateKey with scopes %#x", uint8(bad)), err, pending.ErrScope)
	}
	got, err := s.KeyByHash(ctx, h2)
	if err != nil || got.ID != k2.ID || !got.Testnet || got.SecretHash != h2 || got.Scopes != pending.ScopeSign|pending.ScopeAdmin {
		t.Fatalf("KeyByHash = %+v, %v", got, err)
	}
	if got, err := s.KeyByHash(ctx, h1); err != nil || got.Scopes != pending.AllScopes {
		t.Fatalf("KeyByHash of an all-scope key = %+v, %v", got, err)
	}
	_, err = s.KeyByHash(ctx, sha256.Sum256([]byte("nope")))
	wantErr(t, "KeyByHash unknown", err, pending.ErrKeyNotFound)
	for range 3 {
		if err := s.AddCredits(ctx, k1.ID, 2); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeKey(ctx, k2.ID); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	wantErr(t, "RevokeKey twice", s.RevokeKey(ctx, k2.ID), pending.ErrKeyNotFound)
	wantErr(t, "RevokeKey unknown", s.RevokeKey(ctx, "ffffffffffffffffffffffff"), pending.ErrKeyNotFound)
	_, err = s.KeyByHash(ctx, h2)
	wantErr(t, "KeyByHash revoked", err, pending.ErrKeyNotFound)
	keys, err := s.Keys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("Keys = %+v, %v", keys, err)
	}
	if keys[0].ID != k1.ID || keys[0].Credits != 6 || keys[0].RevokedAt != nil {
		t.Fatalf("Keys[0] = %+v, want %s with 6 credits", keys[0], k1.ID)
	}
	if keys[1].ID != k2.ID || keys[1].RevokedAt == nil {
		t.Fatalf("Keys[1] = %+v, want %s revoked", keys[1], k2.ID)
	}
}

func testConcurrentWrites(t *testing.T, s pending.Store) {
	ctx := context.Background()
	k, err := s.CreateKey(ctx, "c", false, pending.AllScopes, sha256.Sum256([]byte("c")))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				ids, err := s.Create(ctx, tenantA, simple("ETH", sig(w*100+i)))
				if err == nil {
					err = s.Complete(ctx, tenantA, ids[0], fmt.Sprintf("0x%010d", w*100+i))
				}
				if err == nil {
					err = s.AddCredits(ctx, k.ID, 1)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent write: %v", err)
	}
	keys, _ := s.Keys(ctx)
	if len(keys) != 1 || keys[0].Credits != 64 {
		t.Fatalf("credits after concurrent metering = %+v, want 64", keys)
	}
}

// testConcurrentWritesOneFails: writes of many requests at once, among them
// ones that fail (one after it wrote a row and a sequence), each get their
// own result, and the failures neither fail nor undo the others' writes
// nor leave any of their own.
func testConcurrentWritesOneFails(t *testing.T, s pending.Store) {
	ctx := context.Background()
	const n = 48
	var txs []pending.NewTx
	for i := range n + 2 {
		txs = append(txs, simple("ETH", sig(i+1)))
	}
	ids := create(t, s, tenantA, txs...)
	del, done := ids[n], ids[n+1]
	if _, err := s.Delete(ctx, tenantA, del, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, tenantA, done, "0xdone000000"); err != nil {
		t.Fatal(err)
	}
	seqKey := pending.SeqKey{Chain: "ETH", Sender: "0xfa11"}
	failing := []struct {
		name string
		run  func() error
		want error // nil: any error
	}{
		{"Complete with another txId", func() error { return s.Complete(ctx, tenantA, done, "0xother00000") }, pending.ErrTxIDConflict},
		{"Complete deleted", func() error { return s.Complete(ctx, tenantA, del, "0xdel0000000") }, pending.ErrDeleted},
		{"SetTxData deleted", func() error { return s.SetTxData(ctx, tenantA, del, "0xsigned") }, pending.ErrNotFound},
		{"Create failing after its first row", func() error {
			_, err := s.Create(ctx, tenantA, simple("ETH", sig(900)), pending.NewTx{Chain: "ETH", Hashes: []string{sig(901)},
				Sequence: &pending.SeqRequest{Key: seqKey, Render: func(uint64) (string, error) { return "", errors.New("no render") }}})
			return err
		}, nil},
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	okErrs := make([]error, n)
	failErrs := make([]error, len(failing))
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := s.SetTxData(ctx, tenantA, ids[i], fmt.Sprintf("0xsigned%02d", i))
			if err == nil {
				err = s.Complete(ctx, tenantA, ids[i], fmt.Sprintf("0x%010d", i))
			}
			okErrs[i] = err
		}()
	}
	for i, f := range failing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			failErrs[i] = f.run()
		}()
	}
	close(start)
	wg.Wait()
	for i, f := range failing {
		if failErrs[i] == nil || (f.want != nil && !errors.Is(failErrs[i], f.want)) {
			t.Errorf("%s = %v, want %v", f.name, failErrs[i], f.want)
		}
	}
	for i, id := range ids[:n] {
		if okErrs[i] != nil {
			t.Errorf("write %d: %v", i, okErrs[i])
			continue
		}
		tx, err := s.Get(ctx, tenantA, id)
		data, derr := s.TxData(ctx, tenantA, id)
		if err != nil || derr != nil || tx.TxID != fmt.Sprintf("0x%010d", i) || data != fmt.Sprintf("0xsigned%02d", i) {
			t.Errorf("write %d stored %+v %q (%v, %v)", i, tx, data, err, derr)
		}
	}
	if tx, err := s.Get(ctx, tenantA, done); err != nil || tx.TxID != "0xdone000000" {
		t.Errorf("the completed transaction after a conflicting Complete: %+v, %v", tx, err)
	}
	if got := pendingIDs(t, s, pending.PendingQuery{Tenant: tenantA, Chain: "ETH", SignatureIDs: []string{sig(900), sig(901)}}); len(got) != 0 {
		t.Errorf("the failed Create left %v", got)
	}
	if next, err := s.NextSequence(ctx, seqKey); err != nil || next != 0 {
		t.Errorf("the failed Create left the sequence at %d (%v)", next, err)
	}
}

// second is the error of a two-result call.
func second[T any](_ T, err error) error { return err }
