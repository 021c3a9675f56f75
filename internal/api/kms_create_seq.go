package api

import (
	"context"
	"errors"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/pending"
)

// sequence places a validated transaction in its sender's account sequence
// when its chain numbers transactions (chain.Sequencer) and the transaction
// names its sender. A given sequence is kept; a missing one is asked of the
// node here, outside any store write, as the floor of what the store then
// allocates, and the transaction carries that floor until the store renders
// the allocated one (so that completion does not ask the node for it again).
// It returns the sequencer that renders the allocated sequence, nil when the
// store allocates none.
func (s *Server) sequence(ctx context.Context, tx *pending.NewTx, testnet bool) (chain.Sequencer, error) {
	c, err := s.lookupChain(tx.Chain)
	if err != nil {
		return nil, invalid("chain: " + err.Error())
	}
	sq, ok := c.(chain.Sequencer)
	if !ok {
		return nil, nil
	}
	sender, seq, err := sq.Sequence(tx.SerializedTransaction, testnet)
	if err != nil {
		return nil, invalid("serializedTransaction: " + err.Error())
	}
	if seq != nil && *seq == 0 {
		// Tatum's signers read a JSON number 0 as "no nonce" and would
		// sign another one: the same 0 is stored in the form the chain's
		// codec writes a sequence ("0x0"), which they keep (docs/design.md
		// §9). A native transaction cannot be rewritten and is kept.
		if again, err := sq.WithSequence(tx.SerializedTransaction, 0); err == nil {
			tx.SerializedTransaction = again
		}
	}
	if sender == "" {
		return nil, nil // a native transaction: it carries its sequence and names no sender
	}
	key := pending.SeqKey{Chain: tx.Chain, Testnet: testnet, Sender: sender}
	if seq != nil {
		tx.Sequence = &pending.SeqRequest{Key: key, Given: seq}
		return nil, nil
	}
	var floor uint64
	result, err := s.askNode(ctx, tx.Chain, testnet, []string{"the account sequence (nonce)"}, func(ctx context.Context, node broadcast.Client) (err error) {
		floor, err = sq.NextSequence(ctx, node, sender)
		return err
	})
	if err != nil {
		if result != "" { // the transaction's completion ends here
			s.metrics.completions.WithLabelValues(tx.Chain, result).Inc()
		}
		return nil, err
	}
	if tx.SerializedTransaction, err = sq.WithSequence(tx.SerializedTransaction, floor); err != nil {
		return nil, invalid("serializedTransaction: " + err.Error())
	}
	tx.Sequence = &pending.SeqRequest{Key: key, Floor: floor}
	return sq, nil
}

// fillHole queues, in the tenant, a filler for a sequence freed below a live
// one, signed by the freed transaction's wallet (same hashes, index and
// signatures), completed from the node like any queued transaction. The
// deletion or failure that freed it has happened already: a filler that
// cannot be queued is logged, and the sender's later transactions wait for
// the application to queue a transaction with that sequence.
func (s *Server) fillHole(ctx context.Context, tenant string, h *pending.Hole) {
	if h == nil {
		return
	}
	code, testnet := h.Key.Chain, h.Key.Testnet
	id, err := s.queueFiller(ctx, tenant, h)
	if err != nil {
		s.log.ErrorContext(ctx, "a freed sequence could not be filled: the sender's later transactions wait for one with it",
			"chain", code, "testnet", testnet, "sender", h.Key.Sender, "sequence", h.Seq, "err", err)
		return
	}
	s.log.InfoContext(ctx, "queued a filler for a freed sequence", "chain", code, "testnet", testnet,
		"sender", h.Key.Sender, "sequence", h.Seq, "id", id)
}

func (s *Server) queueFiller(ctx context.Context, tenant string, h *pending.Hole) (string, error) {
	c, err := s.lookupChain(h.Key.Chain)
	if err != nil {
		return "", err
	}
	f, ok := c.(chain.Filler)
	if !ok {
		return "", errNoFiller
	}
	serialized, err := f.Filler(h.Key.Sender, h.Seq)
	if err != nil {
		return "", err
	}
	if serialized, err = s.fillFromNode(ctx, h.Key.Chain, h.Key.Testnet, serialized); err != nil {
		return "", err
	}
	seq := h.Seq
	ids, err := s.store.Create(ctx, tenant, pending.NewTx{Chain: h.Key.Chain, SerializedTransaction: serialized,
		Hashes: h.Hashes, Index: h.Index, Signatures: h.Signatures,
		Sequence: &pending.SeqRequest{Key: h.Key, Given: &seq}})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// errNoFiller is logged for a chain that has no filler transaction yet.
var errNoFiller = errors.New("the chain has no filler transaction")
