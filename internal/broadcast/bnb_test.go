package broadcast

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// BNB Beacon Chain was shut down: with or without a configured node, a BNB
// broadcast is refused (ErrRejected, so the API answers 4xx) saying why.
func TestBNBBroadcastShutDown(t *testing.T) {
	configured, err := Dial([]NodeSpec{{Chain: "BNB", URL: "http://127.0.0.1:1"}}, testDialer)
	if err != nil {
		t.Fatal(err)
	}
	for _, nodes := range []*Nodes{NewNodes(), configured, nil} {
		for _, testnet := range []bool{false, true} {
			c, err := nodes.Client("bnb", testnet)
			if err != nil {
				t.Fatalf("no BNB client: %v", err)
			}
			id, err := c.Broadcast(context.Background(), "c201f0625dee")
			if id != "" || !errors.Is(err, ErrChainShutDown) || !errors.Is(err, ErrRejected) || errors.Is(err, ErrUnavailable) {
				t.Fatalf("Broadcast = %q, %v", id, err)
			}
			if !strings.Contains(err.Error(), "shut down") || !strings.Contains(err.Error(), "BNB") {
				t.Errorf("message does not say the chain is shut down: %v", err)
			}
		}
	}
	// Other chains without a node still answer ErrNoNode.
	if _, err := NewNodes().Client("VET", false); !errors.Is(err, ErrNoNode) {
		t.Errorf("VET without node: %v", err)
	}
}
