package xrp

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
)

type fakeNode struct {
	fees      Fees
	validated uint32
}

func (n fakeNode) AccountSequence(context.Context, string) (uint32, error) { return 7, nil }
func (n fakeNode) Fees(context.Context) (Fees, error)                      { return n.fees, nil }
func (n fakeNode) ValidatedLedger(context.Context) (uint32, error)         { return n.validated, nil }

const payment = `{"TransactionType":"Payment","Account":"rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1","Destination":"rNsoKrTUnqRBWUAKeeFo7veNo5XepQyVvN","Amount":"1000000","Memos":[{"Memo":{"MemoData":"3C3E26"}}]}`

// The completed Fee is the open-ledger cost, never below the base fee nor
// above maxFeeFactor times it; given fields are kept as given.
func TestCompleteFee(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		fees Fees
		want string
	}{
		{Fees{Base: 10, OpenLedger: 12}, `"Fee":"12"`},
		{Fees{Base: 10, OpenLedger: 0}, `"Fee":"10"`},
		{Fees{Base: 10, OpenLedger: 5_000_000}, `"Fee":"1000"`},
	} {
		out, err := XRP.CompleteFromNode(ctx, fakeNode{fees: c.fees, validated: 100}, payment, false)
		if err != nil || !strings.Contains(out, c.want) || !strings.Contains(out, `"LastLedgerSequence":175`) {
			t.Errorf("%+v: %s, %v", c.fees, out, err)
		}
	}
	given := strings.Replace(payment, `"Amount"`, `"Fee":"15","LastLedgerSequence":9,"Amount"`, 1)
	out, err := XRP.CompleteFromNode(ctx, fakeNode{fees: Fees{Base: 10, OpenLedger: 12}, validated: 100}, given, false)
	if err != nil || !strings.Contains(out, `"Fee":"15"`) || !strings.Contains(out, `"LastLedgerSequence":9`) {
		t.Errorf("given fields: %s, %v", out, err)
	}
	if m, err := XRP.MissingFields(given); err != nil || m != nil {
		t.Errorf("MissingFields of a complete transaction = %v, %v", m, err)
	}
	// LastLedgerSequence is optional: a transaction with its Fee is complete.
	if m, err := XRP.MissingFields(strings.Replace(payment, `"Amount"`, `"Fee":"15","Amount"`, 1)); err != nil || m != nil {
		t.Errorf("MissingFields with Fee and no LastLedgerSequence = %v, %v", m, err)
	}
	if _, err := XRP.CompleteFromNode(ctx, struct{}{}, payment, false); err == nil || !strings.Contains(err.Error(), "account_info") {
		t.Errorf("a client without the XRP reads: %v", err)
	}
}

// The signer refuses a transaction the server did not complete, naming the
// missing field; WithSequence refuses a sequence XRPL cannot hold.
func TestSignRefusesIncomplete(t *testing.T) {
	key := "spmUbuLeoHN3o7x1uxgTyDrrWgdh5" // rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1
	withFee := strings.Replace(payment, `"Amount"`, `"Fee":"12","Amount"`, 1)
	withSeq := strings.Replace(payment, `"Amount"`, `"Sequence":3,"Amount"`, 1)
	for tx, field := range map[string]string{withFee: "Sequence", withSeq: "Fee"} {
		_, err := XRP.Sign(context.Background(), chain.SignRequest{Serialized: tx, Keys: []string{key}})
		if !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "missing "+field) {
			t.Errorf("without %s: %v", field, err)
		}
	}
	done, err := XRP.WithSequence(withFee, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := XRP.Sign(context.Background(), chain.SignRequest{Serialized: done, Keys: []string{key}}); err != nil {
		t.Errorf("completed: %v", err)
	}
	if !strings.Contains(done, `"MemoData":"3C3E26"`) {
		t.Errorf("WithSequence changed other fields: %s", done)
	}
	if _, err := XRP.WithSequence(withFee, 1<<32); !errors.Is(err, chain.ErrInvalidTx) {
		t.Errorf("WithSequence(2^32): %v", err)
	}
}
