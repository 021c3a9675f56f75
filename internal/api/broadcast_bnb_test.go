package api

import (
	"strings"
	"testing"
)

// BNB Beacon Chain was shut down: a BNB broadcast is a client error (4xx)
// that says so, with no node configured and without a 5xx.
func TestBroadcastBNBShutDown(t *testing.T) {
	e := newEnv(t)
	for _, key := range []string{e.keyA, e.keyTest} {
		got := e.do("POST", "/v3/bnb/broadcast", key, `{"txData":"c201f0625dee0a4a"}`).wantError(t, 403, CodeRejected)
		if !strings.Contains(got.Message, "shut down") {
			t.Errorf("message %q does not say the chain was shut down", got.Message)
		}
	}
}
