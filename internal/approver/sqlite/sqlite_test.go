package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/approver"
	"github.com/custoskms/custos/internal/approver/sqlite"
	"github.com/custoskms/custos/internal/approver/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) approver.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "approver.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// A large batch goes in as several multi-row INSERTs: whatever the chunk a
// request falls in, one stored before, or earlier in the batch, is not
// stored again nor audited again, and the history holds the new
// auto-approvals in the batch's order.
func TestRecordAllInChunks(t *testing.T) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "approver.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Unix(1700000000, 0)
	req := func(n int) approval.Request {
		body := fmt.Sprintf(`{"nonce":%d}`, n)
		return approval.Request{Version: approval.Version, ID: fmt.Sprintf("65f1c0de%016d", n), Chain: "ETH",
			Network: "mainnet", SignatureIDs: []string{"w"}, Indexes: []uint32{}, SerializedTransaction: body,
			Digest: approval.Digest(body), Timestamp: at.Unix()}
	}
	need := approver.Need{Rule: "small"}
	if _, err := s.Record(ctx, req(1000), need, nil, at); err != nil {
		t.Fatal(err)
	}
	later := at.Add(time.Second)
	var rs []approver.Recording
	var want []int // the indexes stored settled, in order
	for i := range 140 {
		n := i
		switch i {
		case 5, 100: // again, in the same chunk and in another
			n = 3
		case 129: // stored before the batch
			n = 1000
		default:
			want = append(want, i)
		}
		rs = append(rs, approver.Recording{Req: req(n), Need: need, Settle: &approver.Settlement{Outcome: approver.StatusApproved}, Now: later})
	}
	var got []int
	txs, err := s.RecordAll(ctx, rs, func(_ context.Context, settled []int) error {
		got = append(got, settled...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("audited %v,\nwant %v", got, want)
	}
	if txs[129].Status != approver.StatusPending || !txs[129].LastAsked.Equal(later) || !txs[129].FirstSeen.Equal(at) {
		t.Fatalf("stored before: %+v", txs[129])
	}
	h, err := s.History(ctx, approver.HistoryPage{Limit: 200})
	if err != nil || len(h) != len(want) {
		t.Fatalf("%d history entries, %v; want %d", len(h), err, len(want))
	}
	for k, i := range want {
		if e := h[len(h)-1-k]; e.ID != rs[i].Req.ID {
			t.Fatalf("history entry %d: %s, want %s", k, e.ID, rs[i].Req.ID)
		}
	}
}
