package pending

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// The states the outcome tracker (internal/tracker) records once a
// broadcast transaction is final on its chain.
const (
	// StateConfirmed: mined successfully and buried under the chain's
	// confirmation depth.
	StateConfirmed State = "confirmed"
	// StateDropped: gone from the node, its sequence (EVM nonce) taken by
	// another transaction; it can never be mined.
	StateDropped State = "dropped"
	// StateReplaced: another transaction of the sender took its place (a
	// speed-up or a cancel).
	StateReplaced State = "replaced"
)

// Our own subscription types, one per final on-chain state. Their bodies
// carry the outcome (OutcomeBody); Tatum's two types keep Tatum's bodies.
const (
	// EventConfirmed is sent when a transaction reaches StateConfirmed.
	EventConfirmed = "KMS_TX_CONFIRMED"
	// EventFailedOnChain is sent when a mined transaction failed on chain
	// (an EVM receipt with status 0: reverted, out of gas) at the
	// confirmation depth; its fee was paid.
	EventFailedOnChain = "KMS_TX_FAILED_ONCHAIN"
	// EventDropped is sent when a transaction reaches StateDropped.
	EventDropped = "KMS_TX_DROPPED"
	// EventReplaced is sent when a transaction reaches StateReplaced; its
	// body names the winner's txId (replacedBy).
	EventReplaced = "KMS_TX_REPLACED"
	// EventExpired is sent when a transaction reaches StateExpired: its
	// validity window (chain.Windowed) passed before broadcast (then
	// besides Tatum's EventFailed, and without a txId), or the tracker found
	// it broadcast but in no block when the window passed.
	EventExpired = "KMS_TX_EXPIRED"
)

// Final reports whether a state is an end: nothing changes it any more.
func (s State) Final() bool {
	switch s {
	case StateConfirmed, StateFailed, StateDropped, StateReplaced, StateExpired:
		return true
	}
	return false
}

// OutcomeEvent is the subscription type announcing that a tracked
// transaction reached state ("" when none does).
func OutcomeEvent(s State) string {
	switch s {
	case StateConfirmed:
		return EventConfirmed
	case StateFailed:
		return EventFailedOnChain
	case StateDropped:
		return EventDropped
	case StateReplaced:
		return EventReplaced
	case StateExpired:
		return EventExpired
	}
	return ""
}

// Event is an event to write to the outbox: its subscription type and body.
type Event struct {
	Type string
	Body []byte
}

// FailEvents are the events Fail writes for a transaction failed with
// reason: Tatum's EventFailed, which applications already handle, and, for
// an expiry (FailState), EventExpired after it, so that a receiver of our
// outcome types hears of every final state.
func FailEvents(pendingID, reason string) []Event {
	events := []Event{{EventFailed, EventBody(EventFailed, pendingID, reason)}}
	if FailState(reason) == StateExpired {
		events = append(events, Event{EventExpired, OutcomeBody(EventExpired, pendingID, "", StateExpired, Outcome{Error: reason})})
	}
	return events
}

// Outcome is what the tracker learned of a broadcast transaction on its
// chain. Fields the chain's node does not tell stay unset.
type Outcome struct {
	// BlockNumber is the block that holds the transaction, once mined.
	BlockNumber *uint64
	// Confirmations counts that block and the ones above it.
	Confirmations *uint64
	// Fee is what the sender paid, in the chain's smallest unit, as a
	// decimal string (EVM: gasUsed × effectiveGasPrice, in wei).
	Fee string
	// Error is why the transaction failed on chain or was dropped.
	Error string
	// ReplacedBy is the txId of the transaction of the same sender and
	// sequence that was mined in its place (StateReplaced).
	ReplacedBy string
	// Rebroadcasts counts the times the stored signed transaction was sent
	// again after the node lost it.
	Rebroadcasts int
	// FinalAt is when the transaction reached a final state.
	FinalAt *time.Time
}

// CheckLeaseClaim reports a claim of the outbox or of the tracking (what
// names it in the error) without an owner, a positive lease or a positive max.
func CheckLeaseClaim(what, owner string, lease time.Duration, max int) error {
	if owner == "" || lease <= 0 || max <= 0 {
		return fmt.Errorf("%s: a claim needs an owner, a positive lease and a positive max", what)
	}
	return nil
}

// TrackClaim asks for broadcast transactions whose next check is due,
// leased to Owner for Lease (as a signer's Claim leases pending ones).
type TrackClaim struct {
	Owner string
	Lease time.Duration
	Max   int
	// Settle is how long after its broadcast a transaction never checked
	// yet becomes due; SettleBy overrides it per chain code. Nothing can be
	// mined before the chain's next block, so an earlier look-up only finds
	// it pending and costs a check and a write. Zero: due at once.
	Settle   time.Duration
	SettleBy map[string]time.Duration
}

// SettleJSON is c.SettleBy as the stores pass it to their claim query: a
// JSON object of milliseconds by chain code ("{}" when there is none).
func (c TrackClaim) SettleJSON() string {
	ms := make(map[string]int64, len(c.SettleBy))
	for code, d := range c.SettleBy {
		ms[code] = max(0, d.Milliseconds())
	}
	b, _ := json.Marshal(ms) // a map of strings to numbers always encodes
	return string(b)
}

// Tracked is a broadcast transaction claimed for a check.
type Tracked struct {
	Tenant string
	ID     string
	Chain  string
	// Testnet is the network of the tenant's API key, which the
	// transaction was broadcast on.
	Testnet bool
	TxID    string
	// TxData is the signed transaction as broadcast ("" when a signer
	// completed it by itself with PUT /v3/kms/{id}/{txId}).
	TxData string
	// Checks counts the checks recorded so far (the tracker's backoff).
	Checks  int
	Outcome Outcome
}

// OutcomeUpdate is one check's result, recorded by the holder of the lease.
type OutcomeUpdate struct {
	Tenant, ID string
	// State is StateBroadcast while the transaction is not final, or the
	// final state it reached. Reaching a final state adds its event
	// (OutcomeEvent) to the outbox in the same database transaction.
	State State
	// BlockNumber, Confirmations, Fee and Error replace the stored ones.
	BlockNumber   *uint64
	Confirmations *uint64
	Fee           string
	Error         string
	// ReplacedBy is the winner's txId when State is StateReplaced.
	ReplacedBy string
	// Rebroadcast counts one more broadcast from the stored bytes.
	Rebroadcast bool
	// RetryIn is when to check again (not final). Stop ends the tracking
	// without a final state: the chain's node cannot tell an outcome.
	RetryIn time.Duration
	Stop    bool
}

// Rival is a completed transaction competing for another's sequence.
type Rival struct {
	ID, TxID string
}

// TxFilter selects a tenant's transactions for the listing route.
type TxFilter struct {
	Tenant string
	// Status keeps one state; "" keeps all.
	Status State
	// Since keeps transactions whose state changed at or after it.
	Since time.Time
	// Limit bounds the answer (at least 1).
	Limit int
}

// Listed is a transaction as the listing route answers it.
type Listed struct {
	Tx
	// ChangedAt is when its state last changed.
	ChangedAt time.Time
}

// TrackStore holds what the outcome tracker needs: the broadcast
// transactions still to follow, leased so that replicas never check one
// twice at once, and their outcomes. TxStore.Complete starts tracking a
// transaction (due at once).
type TrackStore interface {
	// ClaimTracking leases to c.Owner up to c.Max tracked transactions whose
	// next check is due and whose lease is free or ran out, most overdue first.
	ClaimTracking(ctx context.Context, c TrackClaim) ([]Tracked, error)
	// RecordOutcome records a check by owner and frees the lease; ErrNotLeased
	// when owner no longer holds it (nothing changes then).
	RecordOutcome(ctx context.Context, owner string, u OutcomeUpdate) error
	// Rivals returns the other completed transactions of the tenant that
	// compete with id for its sequence: the one it replaces, or that
	// replaces it, and their other replacements (NewTx.Replaces).
	Rivals(ctx context.Context, tenant, id string) ([]Rival, error)
	// Transactions lists a tenant's transactions that are not deleted, by
	// the time their state last changed, then by creation, oldest first.
	Transactions(ctx context.Context, f TxFilter) ([]Listed, error)
}

// StateSQL is the SQL expression both stores derive a row's state with
// (the same decision as StateOf), so that the listing filters by state
// inside the database.
const StateSQL = `CASE WHEN track_state IS NOT NULL THEN track_state
	WHEN tx_id IS NOT NULL THEN 'broadcast'
	WHEN failed_at IS NOT NULL AND fail_state = 'expired' THEN 'expired'
	WHEN failed_at IS NOT NULL THEN 'failed'
	WHEN tx_data IS NOT NULL THEN 'signed'
	ELSE 'queued' END`

// OutcomeBody is the JSON body of an outcome event (our own types):
// signatureId (the pending id), txId (left out when "": a transaction that
// expired before broadcast has none), status, then blockNumber,
// confirmations, fee, error and replacedBy when known, then subscriptionType; compact
// and escaped as EventBody's, so that receivers verify the digest the same way.
func OutcomeBody(typ, pendingID, txID string, state State, o Outcome) []byte {
	b := make([]byte, 0, 192+len(o.Error))
	b = append(b, `{"signatureId":`...)
	b = appendJSString(b, pendingID)
	if txID != "" {
		b = appendJSString(append(b, `,"txId":`...), txID)
	}
	b = append(b, `,"status":`...)
	b = appendJSString(b, string(state))
	if o.BlockNumber != nil {
		b = strconv.AppendUint(append(b, `,"blockNumber":`...), *o.BlockNumber, 10)
	}
	if o.Confirmations != nil {
		b = strconv.AppendUint(append(b, `,"confirmations":`...), *o.Confirmations, 10)
	}
	if o.Fee != "" {
		b = appendJSString(append(b, `,"fee":`...), o.Fee)
	}
	if o.Error != "" {
		b = appendJSString(append(b, `,"error":`...), o.Error)
	}
	if o.ReplacedBy != "" {
		b = appendJSString(append(b, `,"replacedBy":`...), o.ReplacedBy)
	}
	b = append(b, `,"subscriptionType":`...)
	b = appendJSString(b, typ)
	return append(b, '}')
}
