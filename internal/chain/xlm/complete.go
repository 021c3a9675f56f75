package xlm

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math"
	"time"

	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Windowed = (*Chain)(nil)

var (
	_ chain.Completer = (*Chain)(nil)
	_ chain.Sequencer = (*Chain)(nil)
	_ chain.Filler    = (*Chain)(nil)
)

// Node is the part of a Horizon server the server asks to complete and
// sequence a queued envelope; the server's XLM node client answers it.
type Node interface {
	// AccountSequence is GET /accounts/{id}'s sequence: the account's last
	// used sequence number (its next transaction uses one more).
	AccountSequence(ctx context.Context, account string) (int64, error)
	// FeeStats is GET /fee_stats, per operation, in stroops.
	FeeStats(ctx context.Context) (FeeStats, error)
}

// FeeStats is what recent ledgers charged, per operation, in stroops.
type FeeStats struct {
	// BaseFee is last_ledger_base_fee, the network's minimum.
	BaseFee uint64
	// ChargedP90 is fee_charged.p90: a bid at this level got into 90% of
	// recent ledgers' transactions under surge pricing.
	ChargedP90 uint64
}

const (
	// TimeWindow is how far past the moment of completion a completed
	// maxTime lies: about 60 ledgers. A transaction not in a ledger by then
	// fails (txTOO_LATE); Expired tells so before it is signed.
	TimeWindow = 5 * time.Minute
	// maxFeeFactor bounds a completed fee per operation at this many times
	// the base fee. Stellar charges the ledger's surge price, not the bid, so
	// a high bid costs only under sustained congestion; the cap bounds that.
	maxFeeFactor = 100
)

// An XDR envelope cannot leave a field out, so "left out" is a value no
// valid transaction carries: sequence number 0 (an account's sequence starts
// at its creation ledger << 32, so its next is never 0), fee 0 (below any
// base fee), and no time bounds (PRECOND_NONE, or v2 preconditions without
// time bounds). A fee-bump envelope wraps a signed inner transaction whose
// fields nothing may change: it is never completed.

// MissingFields implements chain.Completer: "fee" (XDR's name) when the
// envelope leaves it out as above. Time bounds are optional in the protocol,
// so an envelope without them is not incomplete (nor refused where no node is
// configured); they are set when the envelope is completed for its fee.
// seqNum is the server's allocation (Sequencer).
func (c *Chain) MissingFields(serialized string) ([]string, error) {
	env, err := parseEnvelope(serialized)
	if err != nil {
		return nil, err
	}
	if env.IsFeeBump() {
		return nil, nil
	}
	if env.Fee() != 0 {
		return nil, nil
	}
	if len(env.Signatures()) > 0 {
		return nil, chain.InvalidTx("envelope carries signatures but its fee is 0: filling it would void the signatures")
	}
	return []string{"fee"}, nil
}

// CompleteFromNode implements chain.Completer: a fee of 0 becomes the
// per-operation bid (fee_charged p90, at least the base fee, at most
// maxFeeFactor times it) times the operation count; an envelope completed so
// without time bounds gets minTime 0, maxTime now + TimeWindow.
func (c *Chain) CompleteFromNode(ctx context.Context, node any, serialized string, _ bool, _ ...uint64) (string, error) {
	missing, err := c.MissingFields(serialized)
	if err != nil || len(missing) == 0 {
		return serialized, err
	}
	n, err := asNode(node)
	if err != nil {
		return "", err
	}
	env, _ := parseEnvelope(serialized)
	s, err := n.FeeStats(ctx)
	if err != nil {
		return "", fmt.Errorf("node fee_stats: %w", err)
	}
	fee := feePerOp(s) * uint64(env.OperationsCount())
	if fee > math.MaxUint32 {
		return "", fmt.Errorf("node fee_stats: a fee of %d stroops does not fit the envelope", fee)
	}
	setFee(&env, uint32(fee))
	if env.TimeBounds() == nil {
		setTimeBounds(&env, xdr.TimeBounds{MaxTime: xdr.TimePoint(time.Now().Add(TimeWindow).Unix())})
	}
	return encodeEnvelope(env)
}

// feePerOp is the bid per operation of a completed fee.
func feePerOp(s FeeStats) uint64 {
	fee := max(s.ChargedP90, s.BaseFee, 100)
	if s.BaseFee > 0 && fee > s.BaseFee*maxFeeFactor {
		fee = s.BaseFee * maxFeeFactor
	}
	return fee
}

// Sequence implements chain.Sequencer: the sender is the G… address of the
// source account (a muxed M… source shares its account's sequence), the
// sequence its seqNum, nil when it is 0. A fee-bump envelope's inner
// transaction is signed: its sequence is explicit, whatever it is.
func (c *Chain) Sequence(serialized string, _ bool) (string, *uint64, error) {
	env, err := parseEnvelope(serialized)
	if err != nil {
		return "", nil, err
	}
	src := env.SourceAccount().ToAccountId()
	sender := Address(src.Ed25519[:])
	s := env.SeqNum()
	if s == 0 && !env.IsFeeBump() {
		if len(env.Signatures()) > 0 {
			return "", nil, chain.InvalidTx("envelope carries signatures but its sequence number is 0")
		}
		return sender, nil, nil
	}
	if s < 0 {
		return "", nil, chain.InvalidTx("sequence number is negative")
	}
	u := uint64(s)
	return sender, &u, nil
}

// WithSequence implements chain.Sequencer: seqNum set, the envelope
// re-encoded.
func (c *Chain) WithSequence(serialized string, seq uint64) (string, error) {
	env, err := parseEnvelope(serialized)
	if err != nil {
		return "", err
	}
	switch {
	case env.IsFeeBump():
		return "", chain.InvalidTx("a fee-bump envelope's inner sequence number cannot change")
	case len(env.Signatures()) > 0:
		return "", chain.InvalidTx("envelope carries signatures: its sequence number cannot change")
	case seq == 0 || seq > math.MaxInt64:
		return "", chain.InvalidTx("sequence number %d is out of range", seq)
	}
	if env.Type == xdr.EnvelopeTypeEnvelopeTypeTxV0 {
		env.V0.Tx.SeqNum = xdr.SequenceNumber(seq)
	} else {
		env.V1.Tx.SeqNum = xdr.SequenceNumber(seq)
	}
	return encodeEnvelope(env)
}

// NextSequence implements chain.Sequencer: Horizon's sequence + 1. An
// account the ledger does not hold (never funded) is refused by the node
// client (broadcast.ErrRejected).
func (c *Chain) NextSequence(ctx context.Context, node any, sender string) (uint64, error) {
	n, err := asNode(node)
	if err != nil {
		return 0, err
	}
	if _, err := DecodeAddress(sender); err != nil {
		return 0, chain.InvalidTx("sender is not a G… address")
	}
	s, err := n.AccountSequence(ctx, sender)
	if err != nil {
		return 0, fmt.Errorf("node GET /accounts: %w", err)
	}
	if s < 0 || s == math.MaxInt64 {
		return 0, fmt.Errorf("node GET /accounts: sequence %d out of range", s)
	}
	return uint64(s) + 1, nil
}

// Filler implements chain.Filler: a v1 envelope of sender at seqNum seq
// with one BUMP_SEQUENCE operation to 0, which succeeds and changes nothing
// (a bump below the account's sequence is a no-op), so it only consumes the
// sequence number (and its fee). Its fee is 0 and it has no time bounds:
// CompleteFromNode sets both.
func (c *Chain) Filler(sender string, seq uint64) (string, error) {
	pub, err := DecodeAddress(sender)
	if err != nil {
		return "", chain.InvalidTx("sender is not a G… address")
	}
	if seq == 0 || seq > math.MaxInt64 {
		return "", chain.InvalidTx("sequence number %d is out of range", seq)
	}
	return unsignedEnvelope(pub, seq, xdr.Memo{Type: xdr.MemoTypeMemoNone}, xdr.OperationBody{
		Type: xdr.OperationTypeBumpSequence, BumpSequenceOp: &xdr.BumpSequenceOp{BumpTo: 0},
	})
}

// unsignedEnvelope is a v1 envelope of source at seqNum seq (0: the
// server's to allocate) with one operation, fee 0 and no time bounds, which
// CompleteFromNode sets.
func unsignedEnvelope(source ed25519.PublicKey, seq uint64, memo xdr.Memo, op xdr.OperationBody) (string, error) {
	return encodeEnvelope(xdr.TransactionEnvelope{Type: xdr.EnvelopeTypeEnvelopeTypeTx, V1: &xdr.TransactionV1Envelope{Tx: xdr.Transaction{
		SourceAccount: muxed(source),
		SeqNum:        xdr.SequenceNumber(seq),
		Cond:          xdr.Preconditions{Type: xdr.PreconditionTypePrecondNone},
		Memo:          memo,
		Operations:    []xdr.Operation{{Body: op}},
	}}})
}

// muxed is an account as a plain (not multiplexed) MuxedAccount.
func muxed(pub ed25519.PublicKey) xdr.MuxedAccount {
	var key xdr.Uint256
	copy(key[:], pub)
	return xdr.MuxedAccount{Type: xdr.CryptoKeyTypeKeyTypeEd25519, Ed25519: &key}
}

// Expired reports whether an envelope's maxTime has passed: no ledger closes
// it any more (txTOO_LATE). Time bounds are checked against ledger close
// times, which follow the clock, so this machine's clock stands for them and
// node is not asked; it is taken so that every chain with a validity window
// answers the same call. An envelope without maxTime never expires.
func (c *Chain) Expired(_ context.Context, _ any, serialized string) (bool, error) {
	env, err := parseEnvelope(serialized)
	if err != nil {
		return false, err
	}
	tb := env.TimeBounds()
	if tb == nil || tb.MaxTime == 0 {
		return false, nil
	}
	return time.Now().Unix() > int64(tb.MaxTime), nil
}

// incomplete is the signer's refusal of an envelope the server did not
// complete: Horizon would refuse sequence number 0 and fee 0 anyway.
func incomplete(env xdr.TransactionEnvelope) error {
	switch {
	case env.IsFeeBump():
		return nil
	case env.SeqNum() == 0:
		return chain.InvalidTx("missing seqNum (0; the server allocates it when the transaction is queued)")
	case env.Fee() == 0:
		return chain.InvalidTx("missing fee (0; the server completes it when the transaction is queued)")
	}
	return nil
}

func setFee(env *xdr.TransactionEnvelope, fee uint32) {
	if env.Type == xdr.EnvelopeTypeEnvelopeTypeTxV0 {
		env.V0.Tx.Fee = xdr.Uint32(fee)
	} else {
		env.V1.Tx.Fee = xdr.Uint32(fee)
	}
}

func setTimeBounds(env *xdr.TransactionEnvelope, tb xdr.TimeBounds) {
	switch {
	case env.Type == xdr.EnvelopeTypeEnvelopeTypeTxV0:
		env.V0.Tx.TimeBounds = &tb
	case env.V1.Tx.Cond.Type == xdr.PreconditionTypePrecondV2:
		env.V1.Tx.Cond.V2.TimeBounds = &tb
	default:
		env.V1.Tx.Cond = xdr.Preconditions{Type: xdr.PreconditionTypePrecondTime, TimeBounds: &tb}
	}
}

func encodeEnvelope(env xdr.TransactionEnvelope) (string, error) {
	out, err := xdr.MarshalBase64(env)
	if err != nil {
		return "", fmt.Errorf("encode envelope: %w", err)
	}
	return out, nil
}

func asNode(node any) (Node, error) {
	n, ok := node.(Node)
	if !ok {
		return nil, fmt.Errorf("the XLM node client cannot complete transactions (no GET /accounts, /fee_stats)")
	}
	return n, nil
}
