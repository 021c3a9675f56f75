package pending

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Subscription types, Tatum's names for the KMS notifications, so that an
// application's handlers for Tatum's webhooks work unchanged.
const (
	// EventCompleted is sent when a pending transaction is completed with
	// its blockchain txId (a broadcast the node accepted, or PUT /v3/kms/{id}/{txId}).
	EventCompleted = "KMS_COMPLETED_TX"
	// EventFailed is sent when a signer reports an error about a transaction
	// (POST /v3/tatum/kms/batch) and when the transaction fails for good (a
	// node's permanent refusal, the approval service's refusal, expiry:
	// then EventExpired follows, FailEvents).
	EventFailed = "KMS_FAILED_TX"
)

// EventTypes lists the subscription types, in the order documents show them:
// Tatum's, then our own outcome types (outcome.go).
var EventTypes = []string{EventCompleted, EventFailed, EventConfirmed, EventFailedOnChain, EventDropped, EventReplaced, EventExpired}

// ExpiredReason starts the reason a transaction whose validity window passed
// is failed with; the store tells such a failure apart as StateExpired.
const ExpiredReason = "expired: "

// State is what the store knows of a transaction's outcome.
type State string

// The states a transaction is in, as GET /v3/kms/{id} reports them.
const (
	// StateQueued: waiting for a signer (no txId, not failed).
	StateQueued State = "queued"
	// StateSigned: a signed transaction was submitted for broadcast but the
	// node has not accepted it (yet).
	StateSigned State = "signed"
	// StateBroadcast: completed with its txId.
	StateBroadcast State = "broadcast"
	// StateFailed: ended for good without a txId.
	StateFailed State = "failed"
	// StateExpired: failed because its validity window passed.
	StateExpired State = "expired"
)

// FailState is the state Fail records for a failure with reason.
func FailState(reason string) State {
	if strings.HasPrefix(reason, ExpiredReason) {
		return StateExpired
	}
	return StateFailed
}

// StateOf derives a transaction's state from its stored facts: the state
// the outcome tracker recorded ("" when none), its txId, whether a signed
// transaction was submitted, whether it failed and the state its failure
// was recorded with ("" for failures older than states). StateSQL is the
// same decision in SQL.
func StateOf(trackState, txID string, signed, failed bool, failState string) State {
	switch {
	case trackState != "":
		return State(trackState)
	case txID != "":
		return StateBroadcast
	case failed && failState == string(StateExpired):
		return StateExpired
	case failed:
		return StateFailed
	case signed:
		return StateSigned
	}
	return StateQueued
}

// Subscription is a tenant's webhook: events of Type are POSTed to URL.
type Subscription struct {
	ID        string
	Type      string
	URL       string
	CreatedAt time.Time
}

// Delivery is one event on its way to one subscription's URL, as a
// delivery worker claims it.
type Delivery struct {
	// ID names the delivery (the dead-letter routes use it).
	ID string
	// EventID is the event's stable id: every attempt to every subscription
	// of the event carries it, so a receiver drops what it already has.
	EventID        string
	Tenant         string
	SubscriptionID string
	// PendingID is the pending transaction the event is about.
	PendingID string
	Type      string
	// Body is the JSON POSTed, byte for byte as signed.
	Body []byte
	URL  string
	// Secret is the tenant's HMAC secret at claim time; "" when unset.
	Secret string
	// Attempts is how many attempts failed before this one.
	Attempts  int
	CreatedAt time.Time
	// Order is the event's place among the events of its transaction: a
	// later one is never claimed while an earlier one to the same URL is
	// still to be delivered (several subscriptions of a tenant often share
	// one receiver, which then sees a transaction's story in order).
	Order int64
}

// DeadLetter is a delivery that ran out of attempts.
type DeadLetter struct {
	ID, EventID, SubscriptionID, PendingID, Type, URL string
	Body                                              []byte
	Attempts                                          int
	LastError                                         string
	CreatedAt, FailedAt                               time.Time
}

// DeliveryClaim asks for due deliveries, leased to Owner for Lease.
type DeliveryClaim struct {
	Owner string
	Lease time.Duration
	Max   int
}

// HookStore holds webhook subscriptions, each tenant's HMAC secret, and the
// outbox: the events the write paths of TxStore add in the same database
// transaction as the change they report (Complete: EventCompleted; Fail:
// FailEvents; RecordErrors: EventFailed), one delivery per subscription of the tenant
// for the event's type at that moment. A change that fails adds nothing.
type HookStore interface {
	// CreateSubscription stores a subscription for tenant.
	CreateSubscription(ctx context.Context, tenant, typ, url string) (Subscription, error)
	// Subscriptions lists tenant's subscriptions, oldest first.
	Subscriptions(ctx context.Context, tenant string) ([]Subscription, error)
	// DeleteSubscription removes one of tenant's subscriptions and its
	// deliveries still to be made; ErrSubscriptionNotFound when unknown or foreign.
	DeleteSubscription(ctx context.Context, tenant, id string) error
	// SetHMACSecret sets the secret deliveries of tenant are signed with;
	// "" turns signing off.
	SetHMACSecret(ctx context.Context, tenant, secret string) error
	// ClaimDeliveries leases to c.Owner up to c.Max deliveries that are due,
	// not leased (or whose lease ran out), and have no earlier event of
	// their transaction still to be delivered to the same URL; oldest due
	// first. Two claims never hold one delivery at
	// the same time.
	ClaimDeliveries(ctx context.Context, c DeliveryClaim) ([]Delivery, error)
	// Delivered records deliveries the receiver accepted, in one write
	// however many (a busy worker records them in batches). It holds
	// whoever leased them: the receiver has them either way.
	Delivered(ctx context.Context, ids ...string) error
	// DeliveryFailed records a failed attempt by owner: the delivery is due
	// again after retryIn, or, with dead, is dead-lettered. Nothing changes
	// when owner no longer holds the delivery's lease.
	DeliveryFailed(ctx context.Context, owner, id, reason string, retryIn time.Duration, dead bool) error
	// DeadLetters lists tenant's dead-lettered deliveries, oldest first.
	DeadLetters(ctx context.Context, tenant string) ([]DeadLetter, error)
	// RetryDeadLetter makes one of tenant's dead letters due now with its
	// attempts reset; ErrDeliveryNotFound when unknown, foreign or not dead.
	RetryDeadLetter(ctx context.Context, tenant, id string) error
}

// EventBody is the JSON body of an event, in Tatum's shape: signatureId (the
// pending transaction id), then txId (EventCompleted) or error
// (EventFailed), then subscriptionType. It is written compact and with
// strings escaped as JavaScript's JSON.stringify escapes them, so that a
// Node.js receiver that re-serializes the parsed body, as Tatum's
// instructions for x-payload-hash tell it to, gets the bytes back and
// verifies the digest.
func EventBody(typ, pendingID, detail string) []byte {
	field := "error"
	if typ == EventCompleted {
		field = "txId"
	}
	b := make([]byte, 0, 64+len(pendingID)+len(detail))
	b = append(b, `{"signatureId":`...)
	b = appendJSString(b, pendingID)
	b = append(b, `,"`+field+`":`...)
	b = appendJSString(b, detail)
	b = append(b, `,"subscriptionType":`...)
	b = appendJSString(b, typ)
	return append(b, '}')
}

// appendJSString appends s as JSON.stringify writes a string: the short
// escapes for \b \f \n \r \t, \u00xx for other control characters, and
// everything else (U+2028 and U+2029 included) as it is. Invalid UTF-8
// becomes U+FFFD first, as a JavaScript string cannot hold it.
func appendJSString(b []byte, s string) []byte {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			if c < 0x20 {
				h := strconv.FormatUint(uint64(c), 16)
				b = append(b, `\u00`...)
				if len(h) == 1 {
					b = append(b, '0')
				}
				b = append(b, h...)
				continue
			}
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// RepeatedReport reports whether a signer's error report repeats the
// transaction's latest one: it is kept, but no new EventFailed is sent, since
// a signer that cannot process a transaction reports it on every poll.
func RepeatedReport(hasLast bool, last, msg string) bool { return hasLast && last == msg }
