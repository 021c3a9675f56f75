package approval

import "errors"

var (
	// ErrBadSignature is wrapped when a request is unsigned, signed with
	// another secret, altered, or outside the allowed clock skew.
	ErrBadSignature = errors.New("approval request signature invalid")
	// ErrBadRequest is wrapped when a v2 request is signed but not a
	// well-formed Request for its path (ParseRequest).
	ErrBadRequest = errors.New("approval request malformed")
	// ErrBadResponse is wrapped when an answer is not a signed, fresh
	// Response to the request: the daemon takes it as "not approved yet".
	ErrBadResponse = errors.New("approval response invalid")
)
