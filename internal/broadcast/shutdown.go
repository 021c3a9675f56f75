package broadcast

import (
	"context"
	"errors"
)

// ErrChainShutDown is matched by the error a shut-down chain's client
// answers every broadcast with. It also matches ErrRejected, so the API
// answers a client error (4xx) naming the cause, not a node failure.
var ErrChainShutDown = errors.New("chain has been shut down")

// shutDownError refuses a broadcast on a chain that no longer runs.
type shutDownError struct{ msg string }

func (e *shutDownError) Error() string { return e.msg }

func (e *shutDownError) Is(target error) bool {
	return target == ErrChainShutDown || target == ErrRejected
}

// shutDownClient answers every broadcast with its refusal, without any I/O.
type shutDownClient struct{ err error }

func (c shutDownClient) Broadcast(ctx context.Context, _ string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return "", c.err
}

// ShutDownClient is the client of a chain whose network no longer accepts
// transactions (the chain table's chain.Info.ShutDown says why): it refuses
// every broadcast with that reason and never contacts a node.
func ShutDownClient(reason string) Client {
	return shutDownClient{&shutDownError{reason + "; the signed transaction was not broadcast"}}
}

// DialShutDown accepts a node configured for a shut-down chain, so that old
// configurations keep starting, and answers with the chain's refusal.
func DialShutDown(reason string) Dialer {
	c := ShutDownClient(reason)
	return func(string) (Client, error) { return c, nil }
}
