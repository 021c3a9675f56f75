package pending

import "errors"

var (
	// ErrNotFound is returned for an unknown transaction id, another tenant's
	// id, or (outside Complete and Deletion) a deleted transaction.
	ErrNotFound = errors.New("transaction not found")
	// ErrDeleted is returned when completing a transaction that was deleted.
	ErrDeleted = errors.New("transaction was deleted")
	// ErrCompleted is returned when deleting a transaction that has a txId.
	ErrCompleted = errors.New("transaction is already completed")
	// ErrTxIDConflict is returned when completing with a txId other than the recorded one.
	ErrTxIDConflict = errors.New("transaction is completed with another txId")
	// ErrKeyNotFound is returned for an unknown or revoked API key.
	ErrKeyNotFound = errors.New("api key not found")
	// ErrKeyExists is returned when creating a key whose secret is already stored.
	ErrKeyExists = errors.New("an api key with this secret already exists")
	// ErrScope is returned for an empty or unknown API key scope.
	ErrScope = errors.New("invalid api key scope")
)

var (
	// ErrSubscriptionNotFound is returned for an unknown or foreign subscription id.
	ErrSubscriptionNotFound = errors.New("subscription not found")
	// ErrDeliveryNotFound is returned for an unknown or foreign dead letter.
	ErrDeliveryNotFound = errors.New("dead letter not found")
)

// ErrNotLeased is returned when recording the outcome of a tracked
// transaction whose tracking lease the caller no longer holds (it ran out
// and another replica claimed it): that replica records instead.
var ErrNotLeased = errors.New("tracking lease not held")
