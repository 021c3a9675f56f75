package approver

import "errors"

var (
	// ErrRules is wrapped when a rules file cannot be read or is invalid;
	// the message names the rule and field at fault.
	ErrRules = errors.New("approver rules invalid")
	// ErrOperatorExists is returned when an operator of that name exists.
	ErrOperatorExists = errors.New("operator already exists")
	// ErrOperatorNotFound is returned for an unknown or removed operator.
	ErrOperatorNotFound = errors.New("no such operator")
	// ErrRequestNotFound is returned when the daemon never asked about a
	// transaction id (or digest).
	ErrRequestNotFound = errors.New("no approval request for this transaction")
	// ErrAlreadyDecided is returned when an operator decides twice on one
	// transaction: each operator counts once.
	ErrAlreadyDecided = errors.New("this operator has already decided on this transaction")
	// ErrClosed is returned when a decision comes after the transaction's
	// outcome is settled (approved or refused).
	ErrClosed = errors.New("this transaction is already decided")
	// ErrNotEligible is returned when an operator outside the group a rule
	// names tries to decide.
	ErrNotEligible = errors.New("this operator is not in the group that decides on this transaction")
	// ErrOwnTransaction is returned when an operator approves a transaction
	// queued with an API key they hold: four eyes means someone else's.
	ErrOwnTransaction = errors.New("this transaction was queued with an API key this operator holds: another operator must approve it")
	// ErrNoSession is returned for an unknown, expired or ended session, and
	// ErrNoEnrolment for an unknown, used or expired enrolment token.
	ErrNoSession   = errors.New("no such session")
	ErrNoEnrolment = errors.New("no such enrolment")
)
