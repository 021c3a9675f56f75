package api

import (
	"strings"
	"testing"
)

// BNB Beacon Chain was shut down (the chain table says so): a BNB broadcast
// is a client error (4xx) that says so, without a 5xx, with no node
// configured, and without calling a node that is configured.
func TestBroadcastBNBShutDown(t *testing.T) {
	e := newEnv(t)
	node := &fakeNode{txID: "should-never-be-sent"}
	for _, key := range []string{e.keyA, e.keyTest} {
		got := e.do("POST", "/v3/bnb/broadcast", key, `{"txData":"c201f0625dee0a4a"}`).wantError(t, 403, CodeRejected)
		if !strings.Contains(got.Message, "shut down") {
			t.Errorf("message %q does not say the chain was shut down", got.Message)
		}
		e.nodes.Set("BNB", false, node)
		e.nodes.Set("BNB", true, node)
	}
	e.do("POST", "/v3/bnb/broadcast", e.keyA, `{"txData":"c201f0625dee0a4a"}`).wantError(t, 403, CodeRejected)
	if len(node.sent) != 0 {
		t.Errorf("a configured node was sent %d broadcasts of a shut-down chain", len(node.sent))
	}
}
