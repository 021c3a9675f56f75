package xrp

import (
	"context"
	"fmt"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Windowed = (*Chain)(nil)

var (
	_ chain.Completer = (*Chain)(nil)
	_ chain.Sequencer = (*Chain)(nil)
	_ chain.Filler    = (*Chain)(nil)
)

// Node is the part of a rippled (or Clio) server the server asks to complete
// and sequence a queued transaction; the server's XRP node client answers it.
type Node interface {
	// AccountSequence is account_info's account_data.Sequence in the current
	// (open) ledger: the next Sequence the account can use.
	AccountSequence(ctx context.Context, account string) (uint32, error)
	// Fees is the method fee's answer, in drops.
	Fees(ctx context.Context) (Fees, error)
	// ValidatedLedger is the index of the latest validated ledger.
	ValidatedLedger(ctx context.Context) (uint32, error)
}

// Fees is the transaction cost a server asks now, in drops.
type Fees struct {
	// Base is the reference cost of a transaction with no load (drops.base_fee).
	Base uint64
	// OpenLedger is what gets a transaction into the open ledger now
	// (drops.open_ledger_fee); it rises with load.
	OpenLedger uint64
}

const (
	// LedgerWindow is how many ledgers past the latest validated one a
	// completed LastLedgerSequence allows: ledgers close every 3 to 5
	// seconds, so about five minutes. A transaction not signed and submitted
	// by then can never be included (Expired tells so).
	LedgerWindow = 75
	// maxFeeFactor bounds a completed Fee at this many times the base fee:
	// under heavy load the open-ledger cost climbs steeply, and a transaction
	// bidding the cap waits in the server's queue rather than paying any price.
	maxFeeFactor = 100
)

// MissingFields implements chain.Completer: Fee when the transaction leaves
// it out. LastLedgerSequence is optional in the protocol, so a transaction
// without one is not incomplete (nor refused where no node is configured);
// it is filled when the transaction is completed for its Fee. Sequence is
// the server's allocation (Sequencer).
func (c *Chain) MissingFields(serialized string) ([]string, error) {
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return nil, err
	}
	if o.Has("Fee") {
		return nil, nil
	}
	return []string{"Fee"}, nil
}

// CompleteFromNode implements chain.Completer: a missing Fee is the server's
// open-ledger cost (at least the base fee, at most maxFeeFactor times it);
// a transaction completed so without LastLedgerSequence gets the latest
// validated ledger + LedgerWindow.
// Fields given are kept. The cost is that of an ordinary single-signed
// transaction: one that costs more by its type (AccountDelete, a multi-signed
// one) must give its Fee.
func (c *Chain) CompleteFromNode(ctx context.Context, node any, serialized string, _ bool, _ ...uint64) (string, error) {
	n, err := asNode(node)
	if err != nil {
		return "", err
	}
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return "", err
	}
	if !o.Has("Fee") {
		f, err := n.Fees(ctx)
		if err != nil {
			return "", fmt.Errorf("node fee: %w", err)
		}
		if err := o.Set("Fee", fmt.Sprint(feeOf(f))); err != nil {
			return "", err
		}
	}
	if !o.Has("LastLedgerSequence") {
		v, err := n.ValidatedLedger(ctx)
		if err != nil {
			return "", fmt.Errorf("node ledger: %w", err)
		}
		if v > 1<<32-1-LedgerWindow {
			return "", fmt.Errorf("node ledger: validated ledger index %d leaves no window", v)
		}
		if err := o.Set("LastLedgerSequence", v+LedgerWindow); err != nil {
			return "", err
		}
	}
	return o.Encode()
}

// feeOf is the Fee a completed transaction bids.
func feeOf(f Fees) uint64 {
	fee := max(f.OpenLedger, f.Base, 1)
	if f.Base > 0 && fee > f.Base*maxFeeFactor {
		fee = f.Base * maxFeeFactor
	}
	return fee
}

// Sequence implements chain.Sequencer: the sender is Account (a classic
// address has one spelling), the sequence its Sequence, nil when left out.
func (c *Chain) Sequence(serialized string, testnet bool) (string, *uint64, error) {
	if err := c.ValidateTx(serialized, testnet); err != nil {
		return "", nil, err
	}
	o, _ := chain.ParseJSONObject(serialized)
	acct, _ := o.String("Account")
	if !o.Has("Sequence") {
		return acct, nil, nil
	}
	s, _ := o.Uint("Sequence", false)
	return acct, &s, nil
}

// WithSequence implements chain.Sequencer: Sequence is a JSON number.
func (c *Chain) WithSequence(serialized string, seq uint64) (string, error) {
	if seq > 1<<32-1 {
		return "", chain.InvalidTx("Sequence %d does not fit 32 bits", seq)
	}
	return chain.SetJSON(serialized, "Sequence", seq)
}

// NextSequence implements chain.Sequencer: the account's Sequence in the
// current ledger. An account the ledger does not hold (never funded) is
// refused by the node client (broadcast.ErrRejected).
func (c *Chain) NextSequence(ctx context.Context, node any, sender string) (uint64, error) {
	n, err := asNode(node)
	if err != nil {
		return 0, err
	}
	if _, err := DecodeAddress(sender); err != nil {
		return 0, chain.InvalidTx("Account is not a classic XRP address")
	}
	s, err := n.AccountSequence(ctx, sender)
	if err != nil {
		return 0, fmt.Errorf("node account_info: %w", err)
	}
	return uint64(s), nil
}

// Filler implements chain.Filler: an AccountSet of sender at seq that sets
// and clears nothing, so it only consumes the sequence (and its fee). Fee and
// LastLedgerSequence are left for CompleteFromNode.
func (c *Chain) Filler(sender string, seq uint64) (string, error) {
	if _, err := DecodeAddress(sender); err != nil {
		return "", chain.InvalidTx("Account is not a classic XRP address")
	}
	if seq > 1<<32-1 {
		return "", chain.InvalidTx("Sequence %d does not fit 32 bits", seq)
	}
	return fmt.Sprintf(`{"TransactionType":"AccountSet","Account":%q,"Sequence":%d}`, sender, seq), nil
}

// Expired reports whether a transaction not yet submitted can no longer be
// included in a ledger: its LastLedgerSequence is at or below the latest
// validated ledger. A transaction without one never expires. The server asks
// it of a transaction that waited (for approval, for a signer) before it is
// signed; node is the server's XRP node client.
func (c *Chain) Expired(ctx context.Context, node any, serialized string) (bool, error) {
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return false, err
	}
	if !o.Has("LastLedgerSequence") {
		return false, nil
	}
	last, err := o.Uint("LastLedgerSequence", false)
	if err != nil {
		return false, err
	}
	n, err := asNode(node)
	if err != nil {
		return false, err
	}
	v, err := n.ValidatedLedger(ctx)
	if err != nil {
		return false, fmt.Errorf("node ledger: %w", err)
	}
	return last <= uint64(v), nil
}

func asNode(node any) (Node, error) {
	n, ok := node.(Node)
	if !ok {
		return nil, fmt.Errorf("the XRP node client cannot complete transactions (no account_info, fee, ledger)")
	}
	return n, nil
}
