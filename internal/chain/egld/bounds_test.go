package egld

import (
	"context"
	"strings"
	"testing"
)

// The node is not trusted with the fee: a /network/config far past any
// network's is refused instead of filled in.
func TestCompleteRefusesImplausibleNetworkConfig(t *testing.T) {
	const tx = `{"from":"erd1qyu5wthldzr8wx5c9ucg8kjagg0jfs53s8nr3zpz3hypefsdd8ssycr6th","to":"erd1qyu5wthldzr8wx5c9ucg8kjagg0jfs53s8nr3zpz3hypefsdd8ssycr6th","value":"1","nonce":1}`
	good := NetworkConfig{ChainID: "D", MinGasPrice: 1_000_000_000, MinGasLimit: 50_000, GasPerDataByte: 1_500, MinTxVersion: 1}
	if _, err := EGLD.CompleteFromNode(context.Background(), fillerNode{good}, tx, true); err != nil {
		t.Fatalf("a plausible config: %v", err)
	}
	for name, edit := range map[string]func(*NetworkConfig){
		"gas price":         func(c *NetworkConfig) { c.MinGasPrice = maxNodeGasPrice + 1 },
		"zero gas price":    func(c *NetworkConfig) { c.MinGasPrice = 0 },
		"gas limit":         func(c *NetworkConfig) { c.MinGasLimit = maxNodeGasLimit + 1 },
		"gas per data byte": func(c *NetworkConfig) { c.GasPerDataByte = 1 << 62 },
	} {
		cfg := good
		edit(&cfg)
		if _, err := EGLD.CompleteFromNode(context.Background(), fillerNode{cfg}, tx, true); err == nil || !strings.Contains(err.Error(), "implausible") {
			t.Errorf("%s: %v, want the config refused", name, err)
		}
	}
}
