package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

// viaSQL is the pending query answered without the index in memory, by
// SQLite's index alone.
func viaSQL(ctx context.Context, s *Store, q pending.PendingQuery) ([]pending.Tx, error) {
	ps := pending.NewProbeSet(q.Tenant, q.Chain, q.SignatureIDs)
	return s.inParts(ps.DistinctKeys(), func(list []int64) ([]seqTx, error) {
		return s.pendingByKeys(ctx, ps, q, pendingByKeysSQL, list)
	})
}

// agree asks the query through the index (which must be there, built
// builds times so far) and through SQLite's index, and fails unless both
// give the same transactions, want of them.
func agree(t *testing.T, s *Store, q pending.PendingQuery, want, builds int, step string) {
	t.Helper()
	ctx := context.Background()
	got, err := s.Pending(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	if !s.index.built || s.index.builds != builds {
		t.Fatalf("%s: built %v, %d times, want %d", step, s.index.built, s.index.builds, builds)
	}
	plain, err := viaSQL(ctx, s, q)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	ids := func(txs []pending.Tx) []string {
		out := []string{}
		for _, t := range txs {
			out = append(out, t.ID)
		}
		return out
	}
	if !slices.Equal(ids(got), ids(plain)) || len(got) != want {
		t.Fatalf("%s: through the index %d transactions %v, through SQLite %d %v, want %d", step, len(got), ids(got), len(plain), ids(plain), want)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(plain)
	if string(a) != string(b) {
		t.Fatalf("%s: the transactions differ:\n%s\n%s", step, a, b)
	}
}

// Transactions created, completed, deleted, failed, claimed and let expire
// while the index is in memory are found, or not, exactly as SQLite's index
// finds them; so are those another process writes to the same file, and
// those of a create that failed.
func TestIndexAgreesWithSQL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pending.db")
	s := openPath(t, path)
	s.indexFrom = 1
	s.index.chunk = 7 // the build reads several chunks
	const tenant, other = "65f1c0de0000000000000001", "65f1c0de0000000000000002"
	id := func(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }
	u := func(v uint32) *uint32 { return &v }
	var list []string
	for i := range 200 {
		list = append(list, id(i))
	}
	q := pending.PendingQuery{Tenant: tenant, Chain: "ETH", SignatureIDs: list}
	create := func(s *Store, tenant, chain string, ids ...int) []string {
		t.Helper()
		var txs []pending.NewTx
		for _, i := range ids {
			tx := pending.NewTx{Chain: chain, SerializedTransaction: fmt.Sprintf(`{"n":%d}`, i), Hashes: []string{id(i), id(i + 1000)}}
			if i%4 == 1 {
				tx.Hashes, tx.Index = []string{}, u(uint32(i))
				tx.Signatures = []pending.Signature{{ID: id(i), Index: u(1)}, {ID: id(i + 2000)}}
				tx.WithdrawalID, tx.WithdrawalResponses = "w", []byte(`[{"a":1}]`)
			}
			txs = append(txs, tx)
		}
		created, err := s.Create(ctx, tenant, txs...)
		if err != nil {
			t.Fatal(err)
		}
		return created
	}
	var live []string
	for i := range 60 {
		live = append(live, create(s, tenant, "ETH", i)...)
	}
	create(s, tenant, "BSC", 3, 4)
	create(s, other, "ETH", 5, 6)
	create(s, tenant, "ETH", 7) // a second pending transaction with the same IDs
	agree(t, s, q, 61, 1, "built")
	if len(s.index.base) < 100 {
		t.Fatalf("index of %d entries", len(s.index.base))
	}

	live = append(live, create(s, tenant, "ETH", 100, 101, 102, 300)...)
	agree(t, s, q, 64, 1, "created")
	if err := s.Complete(ctx, tenant, live[0], "0xdone"); err != nil {
		t.Fatal(err)
	}
	agree(t, s, q, 63, 1, "completed")
	if _, err := s.Delete(ctx, tenant, live[1], false); err != nil {
		t.Fatal(err)
	}
	agree(t, s, q, 62, 1, "deleted")
	if _, err := s.Fail(ctx, tenant, live[2], "refused"); err != nil {
		t.Fatal(err)
	}
	agree(t, s, q, 61, 1, "failed")
	claimed := q
	claimed.Claim = &pending.Claim{Signer: "a", Lease: time.Millisecond, Max: 5}
	if got, err := s.Pending(ctx, claimed); err != nil || len(got) != 5 {
		t.Fatalf("claimed %d (%v)", len(got), err)
	}
	agree(t, s, q, 61, 1, "claimed")
	time.Sleep(5 * time.Millisecond)
	agree(t, s, q, 61, 1, "lease expired")

	// Enough changes to merge them into the base, the ended ones dropped.
	for i := 0; i < minMerge; i += 100 {
		ids := make([]int, 100)
		for j := range ids {
			ids[j] = 400 + i + j
		}
		for n, c := range create(s, tenant, "ETH", ids...) {
			if n%2 == 0 {
				if err := s.Complete(ctx, tenant, c, "0x"+c); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var stored int
	if err := s.db.QueryRow(`SELECT count(*) FROM pending_keys`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if len(s.index.added) >= minMerge || len(s.index.base)+len(s.index.added)-len(s.index.gone) != stored {
		t.Fatalf("%d entries merged, %d added, %d gone; %d stored", len(s.index.base), len(s.index.added), len(s.index.gone), stored)
	}
	agree(t, s, q, 61, 1, "merged")

	// A create that fails after writing a transaction gives its seq back.
	failing := pending.NewTx{Chain: "ETH", SerializedTransaction: "x", Hashes: []string{id(150)},
		Sequence: &pending.SeqRequest{Key: pending.SeqKey{Chain: "ETH", Sender: "0xabc"}, Render: func(uint64) (string, error) { return "", errors.New("no") }}}
	if _, err := s.Create(ctx, tenant, pending.NewTx{Chain: "ETH", SerializedTransaction: "y", Hashes: []string{id(151)}}, failing); err == nil {
		t.Fatal("the failing create succeeded")
	}
	if s.index.built {
		t.Fatal("the index outlived a failed create")
	}
	agree(t, s, q, 61, 2, "after a failed create")

	// Another process writes to the same file: once after this one's last
	// create (a seq above the index's), once before this one's next (a gap).
	s2 := openPath(t, path)
	create(s2, tenant, "ETH", 160)
	agree(t, s, q, 62, 3, "another process's create")
	create(s2, tenant, "ETH", 161)
	create(s, tenant, "ETH", 162)
	agree(t, s, q, 64, 4, "another process's create, then this one's")
	if err := s2.Complete(ctx, tenant, live[3], "0xelsewhere"); err != nil {
		t.Fatal(err)
	}
	agree(t, s, q, 63, 4, "another process's complete")
}
