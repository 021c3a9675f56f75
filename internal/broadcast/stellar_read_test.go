package broadcast

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/custoskms/custos/internal/broadcast/nodetest"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/xlm"
	"github.com/custoskms/custos/internal/vectors"
)

// An XLM payment envelope queued with seqNum 0, fee 0 and no time bounds is
// completed and sequenced from Horizon, signed with the chain's Sign, and
// Horizon accepts it; two in a row take consecutive sequence numbers.
func TestStellarCompleteSignSubmit(t *testing.T) {
	var r vectors.Signing
	for _, x := range vectors.SigningFor("XLM") {
		if x.Testnet {
			r = x
			break
		}
	}
	key := r.Keys[0].Secret
	acct, err := xlm.XLM.AddressFromPrivateKey(key, true)
	if err != nil {
		t.Fatal(err)
	}
	var env xdr.TransactionEnvelope
	if err := xdr.SafeUnmarshalBase64(r.PendingTransaction.SerializedTransaction, &env); err != nil {
		t.Fatal(err)
	}
	env.V1.Tx.SeqNum, env.V1.Tx.Fee, env.V1.Tx.Cond = 0, 0, xdr.Preconditions{Type: xdr.PreconditionTypePrecondNone}
	incomplete, _ := xdr.MarshalBase64(env)

	f := &nodetest.Horizon{T: t, Seq: map[string]int64{acct: 123 << 32}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cl, err := DialStellar(srv.URL + "/horizon")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := xlm.XLM.ValidateTx(incomplete, true); err != nil {
		t.Fatalf("ValidateTx refuses the incomplete form: %v", err)
	}
	if _, err := xlm.XLM.Sign(ctx, chain.SignRequest{Serialized: incomplete, Testnet: true, Keys: []string{key}}); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "seqNum") {
		t.Fatalf("Sign of an incomplete envelope: %v", err)
	}
	if m, err := xlm.XLM.MissingFields(incomplete); err != nil || strings.Join(m, ",") != "fee" {
		t.Fatalf("MissingFields = %v, %v", m, err)
	}
	for i := range 2 {
		done, err := xlm.XLM.CompleteFromNode(ctx, cl, incomplete, true)
		if err != nil {
			t.Fatal(err)
		}
		sender, seq, err := xlm.XLM.Sequence(done, true)
		if err != nil || sender != acct || seq != nil {
			t.Fatalf("Sequence = %s, %v, %v", sender, seq, err)
		}
		next, err := xlm.XLM.NextSequence(ctx, cl, sender)
		if err != nil || next != uint64(123<<32+1+i) {
			t.Fatalf("NextSequence = %d, %v", next, err)
		}
		if done, err = xlm.XLM.WithSequence(done, next); err != nil {
			t.Fatal(err)
		}
		signed, err := xlm.XLM.Sign(ctx, chain.SignRequest{Serialized: done, Testnet: true, Keys: []string{key}})
		if err != nil {
			t.Fatal(err)
		}
		if id, err := cl.Broadcast(ctx, signed.TxData); err != nil || id != signed.TxID {
			t.Fatalf("submit %d: %s, %v", i, id, err)
		}
		if expired, err := xlm.XLM.Expired(ctx, cl, done); err != nil || expired {
			t.Errorf("Expired right after completion: %v, %v", expired, err)
		}
	}
	applied, _ := f.Accepted()
	if len(applied) != 2 {
		t.Fatalf("%d applied", len(applied))
	}
	now := time.Now().Unix()
	for i, e := range applied {
		tb := e.TimeBounds()
		if e.Fee() != 250 || e.SeqNum() != 123<<32+1+int64(i) || tb == nil || tb.MinTime != 0 ||
			int64(tb.MaxTime) < now+int64(xlm.TimeWindow.Seconds())-60 || int64(tb.MaxTime) > now+int64(xlm.TimeWindow.Seconds()) {
			t.Errorf("applied %d: fee %d seq %d time bounds %+v", i, e.Fee(), e.SeqNum(), tb)
		}
	}

	// The window: an envelope whose maxTime passed is expired, and Horizon
	// would refuse it.
	env.V1.Tx.Cond = xdr.Preconditions{Type: xdr.PreconditionTypePrecondTime, TimeBounds: &xdr.TimeBounds{MaxTime: xdr.TimePoint(now - 1)}}
	late, _ := xdr.MarshalBase64(env)
	if expired, err := xlm.XLM.Expired(ctx, cl, late); err != nil || !expired {
		t.Errorf("Expired after maxTime: %v, %v", expired, err)
	}

	// An account the ledger does not hold: the node's verdict.
	if _, err := cl.AccountSequence(ctx, "GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN7"); !errors.Is(err, ErrRejected) {
		t.Errorf("unfunded account: %v", err)
	}
}
