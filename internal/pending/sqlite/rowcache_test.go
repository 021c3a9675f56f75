package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

// The row cache holds answers because SQLite refuses to change them.
func TestAnswerColumnsAreWrittenOnce(t *testing.T) {
	ctx := context.Background()
	s := openPath(t, filepath.Join(t.TempDir(), "pending.db"))
	ids, err := s.Create(ctx, "65f1c0de0000000000000001", pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"id = 'x'", "tenant = 'x'", "chain = 'BSC'", "serialized = 'x'", "hashes = '[]'", "idx = 7",
		"signatures = '[]'", "withdrawal_id = 'w'", "withdrawal_responses = '[]'"} {
		_, err := s.db.ExecContext(ctx, `UPDATE txs SET `+set+` WHERE id = ?`, ids[0])
		if err == nil || !strings.Contains(err.Error(), "written once") {
			t.Errorf("SET %s: %v", set, err)
		}
	}
	// What a row's life changes still changes.
	if err := s.Complete(ctx, "65f1c0de0000000000000001", ids[0], "0xabc"); err != nil {
		t.Fatal(err)
	}
}

// A query answers from the cache only what it would read from SQLite: a
// row still pending, of its tenant and chain, and no longer once this
// process ends it (another process's end is TestIndexAgreesWithSQL's).
func TestRowCacheKeepsToTheQuery(t *testing.T) {
	ctx := context.Background()
	s := openPath(t, filepath.Join(t.TempDir(), "pending.db"))
	s.indexFrom = 1
	const tenant, other = "65f1c0de0000000000000001", "65f1c0de0000000000000002"
	ids, err := s.Create(ctx, tenant,
		pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{"sig-a"}},
		pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{"sig-b"}})
	if err != nil {
		t.Fatal(err)
	}
	q := pending.PendingQuery{Tenant: tenant, Chain: "ETH", SignatureIDs: []string{"sig-a", "sig-b"}}
	for range 2 { // read, then from the cache
		if got, err := s.Pending(ctx, q); err != nil || len(got) != 2 {
			t.Fatalf("%d pending (%v)", len(got), err)
		}
	}
	var seqs []int64
	for seq := range s.rows.rows {
		seqs = append(seqs, seq)
	}
	if len(seqs) != 2 {
		t.Fatalf("%d rows cached", len(seqs))
	}

	// Asked by another tenant or for another chain (as a collision of keys
	// would ask), the cached rows are not theirs.
	for _, q := range []pending.PendingQuery{
		{Tenant: other, Chain: "ETH", SignatureIDs: q.SignatureIDs},
		{Tenant: tenant, Chain: "BSC", SignatureIDs: q.SignatureIDs},
	} {
		ps := pending.NewProbeSet(q.Tenant, q.Chain, q.SignatureIDs)
		if got, err := s.pendingBySeqs(ctx, ps, q, seqs, true); err != nil || len(got) != 0 {
			t.Fatalf("%s/%s: %d rows (%v)", q.Tenant, q.Chain, len(got), err)
		}
	}

	if err := s.Complete(ctx, tenant, ids[0], "0xabc"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, tenant, ids[1], false); err != nil {
		t.Fatal(err)
	}
	if len(s.rows.rows) != 0 || s.rows.bytes != 0 {
		t.Fatalf("%d rows (%d bytes) cached after their end", len(s.rows.rows), s.rows.bytes)
	}
	if got, err := s.Pending(ctx, q); err != nil || len(got) != 0 {
		t.Fatalf("%d pending (%v)", len(got), err)
	}
}

// The cache never holds more than its limit, and keeps what it can.
func TestRowCacheIsBounded(t *testing.T) {
	c := rowCache{limit: 256 << 10} // a quarter of what is added
	for i := range 100 {
		var rows []seqTx
		for j := range 10 {
			seq := int64(i*10 + j)
			rows = append(rows, seqTx{seq, &pending.Tx{ID: fmt.Sprint(seq), Chain: "ETH",
				SerializedTransaction: strings.Repeat("x", 300), Hashes: []string{"h"}}})
		}
		c.add("t", rows)
		if c.bytes > c.limit {
			t.Fatalf("%d bytes held, limit %d", c.bytes, c.limit)
		}
	}
	sum := 0
	for _, r := range c.rows {
		sum += rowCost(r.t)
	}
	if sum != c.bytes || c.bytes < c.limit/2 {
		t.Fatalf("%d rows of %d bytes, counted %d", len(c.rows), sum, c.bytes)
	}
}

// The index answers a query without SQLite's state only while every end it
// counted was this process's: another process's complete is seen by the
// count, and once this process's next end shows the gap, the index stays
// inexact until it is built again.
func TestIndexExactOnlyWithItsOwnEnds(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pending.db")
	s := openPath(t, path)
	s.indexFrom = 1
	const tenant = "65f1c0de0000000000000001"
	var txs []pending.NewTx
	var sigs []string
	for i := range 5 {
		sigs = append(sigs, fmt.Sprintf("sig-%d", i))
		txs = append(txs, pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{sigs[i]}})
	}
	ids, err := s.Create(ctx, tenant, txs...)
	if err != nil {
		t.Fatal(err)
	}
	q := pending.PendingQuery{Tenant: tenant, Chain: "ETH", SignatureIDs: sigs}
	expect := func(step string, want int, exact bool) {
		t.Helper()
		for range 2 { // the second from the cache, when exact
			got, err := s.Pending(ctx, q)
			if err != nil || len(got) != want {
				t.Fatalf("%s: %d pending (%v), want %d", step, len(got), err, want)
			}
		}
		if s.index.exact != exact {
			t.Fatalf("%s: exact %v, ends %d", step, s.index.exact, s.index.ends)
		}
	}
	expect("built", 5, true)
	if err := s.Complete(ctx, tenant, ids[0], "0x0"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fail(ctx, tenant, ids[1], "refused"); err != nil {
		t.Fatal(err)
	}
	expect("its own ends", 3, true)
	if s.index.ends != 2 {
		t.Fatalf("%d ends learned", s.index.ends)
	}

	// Several ends in one commit count once, and keep the index exact: the
	// group is held by a write while they queue behind it.
	more := make([]pending.NewTx, 20)
	for i := range more {
		more[i] = pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{sigs[4]}}
	}
	batch, err := s.Create(ctx, tenant, more...)
	if err != nil {
		t.Fatal(err)
	}
	running, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- s.group.write(ctx, func(context.Context, *sql.Tx) error { close(running); <-release; return nil })
	}()
	<-running
	var wg sync.WaitGroup
	for i, id := range batch {
		wg.Go(func() {
			if err := s.Complete(ctx, tenant, id, fmt.Sprintf("0xb%d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	for len(s.group.in) < len(batch) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if s.index.ends != 3 {
		t.Fatalf("%d ends learned after one commit of %d", s.index.ends, len(batch))
	}
	expect("its own ends in one commit", 3, true)

	other := openPath(t, path)
	if err := other.Complete(ctx, tenant, ids[2], "0x2"); err != nil {
		t.Fatal(err)
	}
	expect("another process's end", 2, true) // by SQLite's state: the count differs
	if _, err := s.Delete(ctx, tenant, ids[3], false); err != nil {
		t.Fatal(err)
	}
	expect("its own end after another's", 1, false)
	s.index.doubt()
	expect("built again", 1, true)
}

// A write's after runs once its commit is done, with the count its commit
// made, and not for a write that failed.
func TestGroupAfterRunsOnCommit(t *testing.T) {
	s := openPath(t, filepath.Join(t.TempDir(), "p.db"))
	var order []string
	fail := errors.New("refused")
	err := s.group.writeThen(t.Context(), func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE pending_ends SET n = 7`)
		order = append(order, "write")
		return err
	}, func(mark int64) {
		var n int64
		// Another connection sees the write and the count: committed.
		if err := s.db.QueryRow(`SELECT n FROM pending_ends`).Scan(&n); err != nil || n != 8 || mark != 8 {
			t.Errorf("after ran with n %d, mark %d (%v)", n, mark, err)
		}
		order = append(order, "after")
	})
	if err != nil || strings.Join(order, ",") != "write,after" {
		t.Fatalf("%v: %v", order, err)
	}
	err = s.group.writeThen(t.Context(), func(context.Context, *sql.Tx) error { return fail },
		func(int64) { order = append(order, "after a failed write") })
	if !errors.Is(err, fail) || len(order) != 2 {
		t.Fatalf("%v: %v", order, err)
	}
}

// When the cache makes room, the rows answered since it last did stay: a
// signer's poll keeps its answers while rows nothing asks for come and go.
func TestRowCacheKeepsWhatIsAnswered(t *testing.T) {
	c := rowCache{limit: 100 * (rowOverhead + 40)}
	row := func(seq int64) seqTx {
		return seqTx{seq, &pending.Tx{ID: fmt.Sprintf("%024d", seq), Chain: "ETH", Hashes: []string{}}}
	}
	var asked []int64
	var rows []seqTx
	for seq := range int64(50) {
		asked = append(asked, seq)
		rows = append(rows, row(seq))
	}
	c.add("t", rows)
	for i := range 40 {
		if hits, misses := c.lookup("t", "ETH", asked); len(hits) != len(asked) || len(misses) != 0 {
			t.Fatalf("after %d rounds: %d of %d asked rows kept", i, len(hits), len(asked))
		}
		var others []seqTx
		for j := range 10 {
			others = append(others, row(int64(1000+i*10+j)))
		}
		c.add("t", others)
		if c.bytes > c.limit {
			t.Fatalf("%d bytes held, limit %d", c.bytes, c.limit)
		}
	}
}
