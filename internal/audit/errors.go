package audit

import (
	"errors"
	"fmt"
)

var (
	// ErrBroken is wrapped by every *BrokenError: the chain does not verify.
	ErrBroken = errors.New("audit log does not verify")
	// ErrClosed is returned by Append after Close.
	ErrClosed = errors.New("audit log is closed")
	// ErrLocked is wrapped when the log's lock could not be taken in time.
	ErrLocked = errors.New("audit log lock not taken")
	// ErrTooLarge is returned for an entry longer than MaxLine.
	ErrTooLarge = errors.New("audit entry too large")
)

// BrokenError names the first entry at which a log stops verifying. Line
// counts from 1; Seq is the seq the entry claims (0 when it could not be read).
type BrokenError struct {
	Line   int
	Seq    uint64
	Reason string
}

func (e *BrokenError) Error() string {
	if e.Seq > 0 {
		return fmt.Sprintf("audit log: line %d (seq %d): %s", e.Line, e.Seq, e.Reason)
	}
	return fmt.Sprintf("audit log: line %d: %s", e.Line, e.Reason)
}

func (e *BrokenError) Unwrap() error { return ErrBroken }
