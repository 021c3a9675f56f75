package broadcast

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// A shut-down chain's client, dialed for a configured node or not, refuses
// every broadcast (ErrRejected, so the API answers 4xx) saying why, and a
// cancelled context still wins.
func TestShutDownClient(t *testing.T) {
	const reason = "Example Chain was shut down"
	dialed, err := DialShutDown(reason)("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Client{ShutDownClient(reason), dialed} {
		id, err := c.Broadcast(context.Background(), "c201f0625dee")
		if id != "" || !errors.Is(err, ErrChainShutDown) || !errors.Is(err, ErrRejected) || errors.Is(err, ErrUnavailable) {
			t.Fatalf("Broadcast = %q, %v", id, err)
		}
		if !strings.Contains(err.Error(), reason) || !strings.Contains(err.Error(), "not broadcast") {
			t.Errorf("message does not give the reason: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Broadcast(ctx, "00"); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v", err)
		}
	}
	// Nodes know nothing of shut-down chains: a chain without a node is ErrNoNode.
	if _, err := NewNodes().Client("VET", false); !errors.Is(err, ErrNoNode) {
		t.Errorf("VET without node: %v", err)
	}
}
