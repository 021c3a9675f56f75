package api

import (
	"context"
	"slices"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/xrp"
	"github.com/custoskms/custos/internal/pending"
)

// xrpNode is an XRP node client: the account's next Sequence is 7.
type xrpNode struct{ fakeNode }

func (*xrpNode) AccountSequence(context.Context, string) (uint32, error) { return 7, nil }
func (*xrpNode) Fees(context.Context) (xrp.Fees, error) {
	return xrp.Fees{Base: 10, OpenLedger: 12}, nil
}
func (*xrpNode) ValidatedLedger(context.Context) (uint32, error) { return 100, nil }

// A deleted XRP transaction in the middle of its sender's queue is replaced
// by the chain's filler at its Sequence: an AccountSet of the same account,
// completed from the node and signed by the same wallet; a deleted last one
// gives its Sequence back.
func TestFillerTakesFreedXRPSequence(t *testing.T) {
	const sender = "rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1"
	e := newEnv(t)
	e.srv.lookupChain = chains.Lookup
	e.nodes.Set("XRP", true, &xrpNode{})
	payment := `{"TransactionType":"Payment","Account":"` + sender + `","Destination":"rNsoKrTUnqRBWUAKeeFo7veNo5XepQyVvN","Amount":"1000000"}`
	for range 4 {
		e.do("POST", "/v3/kms", e.keyTest, map[string]any{"chain": "XRP", "serializedTransaction": payment, "hashes": []string{sigA}}).want(t, 200, nil)
	}
	bySeq := func() map[uint64]pending.Tx { return pendingBySeq(t, e, "XRP", xrp.XRP) }
	queued := bySeq()
	if len(queued) != 4 || queued[7].ID == "" || queued[10].ID == "" {
		t.Fatalf("Sequences allocated: %v", queued)
	}
	e.do("DELETE", "/v3/kms/"+queued[10].ID, e.keyTest, nil).want(t, 204, nil)
	e.do("DELETE", "/v3/kms/"+queued[8].ID, e.keyTest, nil).want(t, 204, nil)
	left := bySeq()
	if len(left) != 3 || left[7].ID != queued[7].ID || left[9].ID != queued[9].ID {
		t.Fatalf("after deleting Sequences 10 and 8: %v", left)
	}
	f := left[8]
	if f.ID == "" || f.ID == queued[8].ID || !slices.Equal(f.Hashes, []string{sigA}) {
		t.Fatalf("no filler of the wallet at Sequence 8: %+v", f)
	}
	o, err := chain.ParseJSONObject(f.SerializedTransaction)
	if err != nil {
		t.Fatal(err)
	}
	tt, _ := o.String("TransactionType")
	acct, _ := o.String("Account")
	fee, _ := o.String("Fee")
	if tt != "AccountSet" || acct != sender || fee != "12" || !o.Has("LastLedgerSequence") || o.Has("SetFlag") {
		t.Fatalf("filler at Sequence 8 is not a completed AccountSet of the sender: %s", f.SerializedTransaction)
	}
}
