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

// shutDown holds the chains whose networks were shut down: signing still
// works (for records and for format compatibility), broadcasting cannot.
var shutDown = map[string]Client{
	"BNB": shutDownClient{&shutDownError{"BNB Beacon Chain was shut down in 2024 (BNB Chain Fusion) and accepts no transactions; " +
		"the signed transaction was not broadcast"}},
}

// shutDownClientFor returns the refusing client of a shut-down chain, so
// Nodes answers it whether or not a node was configured.
func shutDownClientFor(chain string) (Client, bool) {
	c, ok := shutDown[chain]
	return c, ok
}

// DialBNB accepts a node configured for BNB (old configurations keep
// starting) and answers with the shut-down chain's refusal.
func DialBNB(string) (Client, error) { return shutDown["BNB"], nil }
