package xlm

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

// The fee bid per operation: the 90th percentile charged, at least the base
// fee, at most maxFeeFactor times it.
func TestFeePerOp(t *testing.T) {
	for _, c := range []struct {
		s    FeeStats
		want uint64
	}{
		{FeeStats{BaseFee: 100, ChargedP90: 250}, 250},
		{FeeStats{BaseFee: 100, ChargedP90: 0}, 100},
		{FeeStats{BaseFee: 100, ChargedP90: 1_000_000}, 10_000},
	} {
		if got := feePerOp(c.s); got != c.want {
			t.Errorf("%+v: %d, want %d", c.s, got, c.want)
		}
	}
}

// A signed envelope, and a fee-bump's signed inner transaction, are never
// renumbered or completed: that would void their signatures.
func TestSignedEnvelopesStayAsGiven(t *testing.T) {
	r := chaintest.SigningRows(t, "XLM")[0]
	var want chaintest.Expected
	_ = json.Unmarshal(r.Expected, &want)
	signed := want.Signed
	if _, err := XLM.WithSequence(signed, 5); !errors.Is(err, chain.ErrInvalidTx) {
		t.Errorf("WithSequence of a signed envelope: %v", err)
	}
	var env xdr.TransactionEnvelope
	if err := xdr.SafeUnmarshalBase64(signed, &env); err != nil {
		t.Fatal(err)
	}
	env.V1.Tx.Fee = 0
	noFee, _ := xdr.MarshalBase64(env)
	if _, err := XLM.MissingFields(noFee); !errors.Is(err, chain.ErrInvalidTx) {
		t.Errorf("MissingFields of a signed envelope without fee: %v", err)
	}
	bump := xdr.TransactionEnvelope{Type: xdr.EnvelopeTypeEnvelopeTypeTxFeeBump, FeeBump: &xdr.FeeBumpTransactionEnvelope{Tx: xdr.FeeBumpTransaction{
		FeeSource: env.V1.Tx.SourceAccount, Fee: 400,
		InnerTx: xdr.FeeBumpTransactionInnerTx{Type: xdr.EnvelopeTypeEnvelopeTypeTx, V1: env.V1},
	}}}
	b, _ := xdr.MarshalBase64(bump)
	if m, err := XLM.MissingFields(b); err != nil || m != nil {
		t.Errorf("MissingFields of a fee bump = %v, %v", m, err)
	}
	if _, seq, err := XLM.Sequence(b, true); err != nil || seq == nil || int64(*seq) != env.SeqNum() {
		t.Errorf("Sequence of a fee bump = %v, %v", seq, err)
	}
	if _, err := XLM.WithSequence(b, 5); !errors.Is(err, chain.ErrInvalidTx) {
		t.Errorf("WithSequence of a fee bump: %v", err)
	}
}
