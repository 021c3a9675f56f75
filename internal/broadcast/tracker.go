package broadcast

import "context"

// Progress is how far a broadcast transaction got, as its chain's node tells.
type Progress int

const (
	// Unknown: the node does not know the transaction and cannot tell
	// whether it can still be mined (no signed bytes, or a chain whose node
	// cannot say); asked again later.
	Unknown Progress = iota
	// Pending: the node holds it, not yet in a block.
	Pending
	// Mined: in a block; Outcome says which and how deep.
	Mined
	// Missing: the node does not know it, but its sequence (EVM nonce) is
	// still free: the same signed bytes can be broadcast again.
	Missing
	// Dropped: the node does not know it and its sequence was taken by
	// another transaction: it can never be mined.
	Dropped
	// Expired: the node does not know it, nothing took its sequence, and
	// its validity window (chain.Windowed: a TRON expiration, an XRP
	// LastLedgerSequence, XLM time bounds) passed: no block can include it
	// any more, and the stored bytes are no use to broadcast again.
	Expired
)

// Outcome is one look-up's answer.
type Outcome struct {
	Progress Progress
	// BlockNumber and Confirmations (that block and those above it) are set
	// once Mined.
	BlockNumber   uint64
	Confirmations uint64
	// Failed marks a mined transaction that failed on chain (EVM receipt
	// status 0); its fee was paid.
	Failed bool
	// Fee is what the sender paid in the chain's smallest unit, decimal;
	// "" when the node does not tell.
	Fee string
	// Error says why it failed, was dropped or expired.
	Error string
}

// Tracker is the optional capability of a node client that can follow a
// broadcast transaction (found by type assertion on a Client). Clients of
// chains without it leave their transactions at "broadcast".
type Tracker interface {
	// Lookup asks the node about the transaction txID; txData is its signed
	// bytes as broadcast ("" when unknown), which tell its sender and
	// sequence once the node has forgotten it. A node that cannot be asked
	// is ErrUnavailable.
	Lookup(ctx context.Context, txID, txData string) (Outcome, error)
}
