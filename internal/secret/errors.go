package secret

import "errors"

var (
	// ErrNoInput is returned when stdin ends before the line a command needs.
	ErrNoInput = errors.New("no input")
	// ErrEmpty is returned for an empty password or secret.
	ErrEmpty = errors.New("empty value")
	// ErrMissingSetting is returned when a password backend lacks a variable it needs.
	ErrMissingSetting = errors.New("missing setting")
	// ErrBackend is returned when a secret manager refuses or gives an unusable answer.
	ErrBackend = errors.New("secret manager request failed")
)
