package daemon

import (
	"cmp"
	"context"
	"slices"

	"github.com/custoskms/custos/internal/chain"
)

// turn is one transaction's place in its sender's line: the transaction
// after it waits for done before submitting, and is held back when this one
// was not submitted.
type turn struct {
	done      chan struct{}
	submitted bool // written before done is closed
}

// place is a transaction's position in its sender's line: the turn of the
// sender's previous transaction (nil for the first) and its own (nil when
// it has no sender's line).
type place struct{ prev, own *turn }

// wait blocks until the previous transaction is through and reports whether
// this one may be submitted: the previous one was submitted.
func (p place) wait(ctx context.Context) bool {
	if p.prev == nil {
		return true
	}
	select {
	case <-p.prev.done:
		return p.prev.submitted
	case <-ctx.Done():
		return false
	}
}

// finish ends the transaction's turn; submitted lets the next one go.
func (p place) finish(submitted bool) {
	if p.own != nil {
		p.own.submitted = submitted
		close(p.own.done)
	}
}

// inSequence orders txs for a run so that a node receives each sender's
// transactions in sequence order: it returns them with every sender's
// transactions sorted by sequence in the places the sender's transactions
// had (senders stay interleaved as claimed), and the place of each in its
// sender's line. Dispatching them in the returned order never deadlocks on a
// bounded pool: a transaction's predecessors are all dispatched before it.
// waiting are the transactions left out of the run for their retry wait:
// they are not submitted, so the sender's later ones wait too.
//
// A node keeps a transaction that arrives ahead of its predecessor only in a
// small per-account queue (geth: 64 by default, the highest nonces dropped
// beyond it) while the API marks it complete once the node accepts it, so
// nothing would submit a dropped one again. Signing still runs concurrently;
// only submissions of one sender are serialized, those of different senders
// stay concurrent. Transactions whose chain has no sequence, or that carry
// none, have no predecessor; nor have those the signer refuses (ambiguous
// JSON, a transaction that does not decode).
//
// The sequences are read from each transaction's decoding (PendingTx.decode),
// which the returned transactions keep: on a chain.Decoder, the one reading
// of its bytes that the guard decides on and the signer signs.
func inSequence(c chain.Chain, testnet bool, txs, waiting []PendingTx) ([]PendingTx, map[string]place) {
	places := make(map[string]place, len(txs))
	sq, ok := c.(chain.Sequencer)
	if !ok {
		return txs, places
	}
	sequence := func(tx *PendingTx) (string, *uint64, error) {
		dec, err := tx.decode(c)
		if err != nil {
			return "", nil, err
		}
		tx.dec = dec
		switch {
		case dec.err != nil:
			return "", nil, dec.err
		case dec.tx != nil:
			return dec.tx.Sequence()
		}
		return sq.Sequence(tx.SerializedTransaction, testnet)
	}
	type line struct {
		pos []int // the line's places in txs
		txs []PendingTx
		seq map[string]uint64
	}
	lines := map[string]*line{}
	// add puts tx, at pos in out (-1: waiting), in its sender's line,
	// decoded.
	add := func(tx *PendingTx, pos int) {
		sender, seq, err := sequence(tx)
		if err != nil || seq == nil || sender == "" {
			return // the signer reports what is wrong with it
		}
		l := lines[sender]
		if l == nil {
			l = &line{seq: map[string]uint64{}}
			lines[sender] = l
		}
		if pos >= 0 {
			l.pos = append(l.pos, pos)
		}
		l.txs = append(l.txs, *tx)
		l.seq[tx.ID] = *seq
	}
	out := slices.Clone(txs)
	for i := range out {
		add(&out[i], i)
	}
	held := make(map[string]bool, len(waiting))
	for _, tx := range waiting {
		add(&tx, -1)
		held[tx.ID] = true
	}
	for _, l := range lines {
		slices.SortStableFunc(l.txs, func(a, b PendingTx) int { return cmp.Compare(l.seq[a.ID], l.seq[b.ID]) })
		var prev *turn
		k := 0
		for _, tx := range l.txs {
			own := &turn{done: make(chan struct{})}
			if held[tx.ID] {
				close(own.done) // not submitted in this run
			} else {
				out[l.pos[k]] = tx
				k++
				places[tx.ID] = place{prev: prev, own: own}
			}
			prev = own
		}
	}
	return out, places
}
