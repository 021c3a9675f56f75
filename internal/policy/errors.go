package policy

import "errors"

var (
	// ErrInvalid is wrapped by every error Parse returns: the file is not a
	// policy this build accepts. The message names the field at fault.
	ErrInvalid = errors.New("invalid policy")
)
