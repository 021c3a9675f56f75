package approver

import (
	"context"
	"strconv"
	"time"

	"github.com/custoskms/custos/approval"
)

// Store is the approver's database: operators and their passkeys, the
// requests the daemon sent, the operators' decisions and console sessions.
// The SQLite implementation is in approver/sqlite; the contract suite in
// approver/storetest is written once for every implementation.
type Store interface {
	// AddOperator creates an operator with its API keys (ErrOperatorExists
	// when the name is taken). RemoveOperator deletes one with its passkeys, enrolment and
	// sessions (ErrOperatorNotFound); its past decisions stay.
	AddOperator(ctx context.Context, op Operator) error
	RemoveOperator(ctx context.Context, name string) error
	Operators(ctx context.Context) ([]Operator, error)
	Operator(ctx context.Context, name string) (Operator, error)
	// OperatorByHandle finds an operator by its WebAuthn user handle.
	OperatorByHandle(ctx context.Context, handle []byte) (Operator, error)

	// SetEnrolment replaces an operator's one-time passkey enrolment token
	// (stored as its hash); Enrolment finds the operator of a live one;
	// AddCredential stores a passkey and ends the enrolment in one step.
	SetEnrolment(ctx context.Context, operator string, tokenHash []byte, expires time.Time) error
	Enrolment(ctx context.Context, tokenHash []byte, now time.Time) (string, error)
	AddCredential(ctx context.Context, operator string, id, data []byte) error
	// UpdateCredential rewrites a passkey's stored data (its sign count).
	UpdateCredential(ctx context.Context, id, data []byte) error
	Credentials(ctx context.Context, operator string) ([][]byte, error)

	// Record stores a request the daemon sent, or notes that it asked again
	// about one already stored (same id and digest), and returns the stored
	// state with its decisions. With settle, a new request is stored
	// settled, with the rule's decision in the history (see Settlement). Asked
	// again, a request keeps what is stored, settle or not.
	Record(ctx context.Context, req approval.Request, need Need, settle *Settlement, now time.Time) (Tx, error)
	// RecordAll is Record for the requests of a batch, in one write
	// transaction, returning their states in order. The Settlements'
	// Audits are not called: audit is, once, with the indexes of the
	// requests it is storing settled for the first time (none: not
	// called), inside the write and before it commits, so that a batch's
	// auto-approvals take one audit append. When audit or the write fails,
	// nothing is stored.
	RecordAll(ctx context.Context, rs []Recording, audit func(ctx context.Context, settled []int) error) ([]Tx, error)
	// Tx returns the latest request for id with its decisions.
	Tx(ctx context.Context, id string) (Tx, error)
	// Queue lists requests, newest activity first, a page of them: those
	// after f.Before, at most f.Limit. Count counts all requests f's status
	// and chain select, on every page.
	Queue(ctx context.Context, f Filter) ([]Tx, error)
	Count(ctx context.Context, f Filter) (int, error)
	// Decide stores one operator's decision on (id, digest) and settles the
	// outcome that all its stored decisions now lead to (Settle), in one
	// write transaction, and returns that outcome: ErrAlreadyDecided when
	// the operator has decided on it, ErrClosed when its outcome is settled.
	// The tally is read inside the transaction, after the insert, because
	// two operators deciding at once must each count the other's decision:
	// a tally read before would leave a 2-of-n request with two approvals
	// pending for good. Before committing, Decide calls commit with the
	// outcome (nil: none); an error from it undoes the decision.
	Decide(ctx context.Context, d Decision, commit func(outcome Status) error) (Status, error)
	// SetStatus settles a request's outcome (an auto-approval).
	SetStatus(ctx context.Context, id, digest string, s Status, now time.Time) error

	// History lists decisions (an operator's, or a rule's when SetStatus
	// settles an outcome) and sign-ins, newest first. Decide, SetStatus and
	// CreateSession write its entries in the same transaction as the act
	// they record, so that the console's history never misses one the
	// store kept.
	History(ctx context.Context, p HistoryPage) ([]HistoryEntry, error)

	// Sessions are stored by the hash of their cookie value; creating one
	// is a sign-in in the history.
	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, hash []byte) (Session, error)
	TouchSession(ctx context.Context, hash []byte, at time.Time) error
	DeleteSession(ctx context.Context, hash []byte) error

	Close() error
}

// Settlement settles a new request on arrival (an auto-approval) in the write
// that stores it: one write, where Record and SetStatus would be two.
type Settlement struct {
	// Outcome is the request's status from the start.
	Outcome Status
	// Audit appends the decision to the audit log. Record calls it only for
	// a request it is storing for the first time, inside that write and
	// before it commits: when Audit fails, nothing is stored. A store may
	// call the Audits of Records written together concurrently, so that
	// the log writes them together too.
	Audit func(context.Context) error
}

// Recording is one request of RecordAll, with Record's arguments.
type Recording struct {
	Req    approval.Request
	Need   Need
	Settle *Settlement
	Now    time.Time
}

// Operator is a person who signs in to the console and decides.
type Operator struct {
	Name        string
	DisplayName string
	// Handle is the random WebAuthn user handle (never the name, which a
	// passkey would otherwise reveal).
	Handle    []byte
	CreatedAt time.Time
	// Passkeys counts the operator's registered credentials.
	Passkeys int
	// APIKeys are the ids of the API keys the operator holds: a
	// transaction one of them queued is not the operator's to approve.
	APIKeys []string
}

// Status is a request's outcome.
type Status string

// The outcomes of a request.
const (
	StatusPending  Status = "pending"
	StatusApproved Status = "approved"
	StatusRefused  Status = "refused"
)

// Tx is a stored request with its decisions.
type Tx struct {
	// Seq orders requests stored at the same instant and pages the queue.
	Seq       int64
	Request   approval.Request
	Need      Need
	Status    Status
	FirstSeen time.Time
	LastAsked time.Time
	// Updated is the last activity: first seen, a decision, an outcome.
	Updated   time.Time
	Decisions []Decision
}

// Decision is one operator's answer on one request.
type Decision struct {
	ID, Digest string
	Operator   string
	Decision   approval.Decision
	Reason     string
	At         time.Time
}

// Filter narrows Queue. Zero fields match everything; Limit 0 is 200.
type Filter struct {
	Status Status
	Chain  string
	// Before, when set, starts the page after this position: the requests
	// with less recent activity than it (the last row of the page before).
	Before *QueueCursor
	Limit  int
}

// QueueCursor is a position in the queue's order (activity, then seq).
type QueueCursor struct {
	Updated time.Time
	Seq     int64
}

// Session is a signed-in operator's console session.
type Session struct {
	Hash     []byte
	Operator string
	// CSRF is the token every form of the session carries.
	CSRF      string
	CreatedAt time.Time
	LastSeen  time.Time
	// Remote is the browser's address at sign-in, kept in the history only.
	Remote string
}

// The kinds of history entry.
const (
	HistoryDecision = "decision"
	HistorySignin   = "signin"
)

// HistoryEntry is one line of the history: a decision (Operator empty for a
// rule's auto-approval) or a sign-in (ID, Chain, Decision, Outcome empty).
type HistoryEntry struct {
	// Seq orders entries (newest highest) and pages the history.
	Seq      int64
	At       time.Time
	Kind     string
	Operator string
	ID       string
	Chain    string
	Decision approval.Decision
	Outcome  Status
	Reason   string
	Remote   string
}

// HistoryPage selects entries older than Before (0: from the newest), at
// most Limit of them (0 is 50).
type HistoryPage struct {
	Before int64
	Limit  int
}

// Tally is the answer to the daemon for a request needing n, given its
// decisions: a refusal by an eligible operator refuses; n.Approvals
// approvals by distinct eligible operators approve; otherwise pending, with
// what is still missing as the reason.
func Tally(n Need, ds []Decision) (approval.Decision, string) {
	approvers := map[string]bool{}
	for _, d := range ds {
		if !n.Eligible(d.Operator) {
			continue
		}
		switch d.Decision {
		case approval.Refuse:
			return approval.Refuse, "refused by " + d.Operator + ": " + d.Reason
		case approval.Approve:
			approvers[d.Operator] = true
		}
	}
	if len(approvers) >= n.Approvals {
		return approval.Approve, ""
	}
	return approval.Pending, waiting(n, len(approvers))
}

func waiting(n Need, have int) string {
	s := "waiting for operators: " + strconv.Itoa(have) + " of " + strconv.Itoa(n.Approvals) + " approvals (rule " + n.Rule
	if n.Group != "" {
		s += ", group " + n.Group
	}
	return s + ")"
}

// Outcome maps a tally to the stored status.
func Outcome(d approval.Decision) Status {
	switch d {
	case approval.Approve:
		return StatusApproved
	case approval.Refuse:
		return StatusRefused
	}
	return StatusPending
}
