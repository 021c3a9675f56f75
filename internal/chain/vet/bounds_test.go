package vet

import (
	"context"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
)

// gasNode is a Thor node whose dry run claims a fixed gas for every clause.
type gasNode struct{ used uint64 }

func (gasNode) BestBlock(context.Context) (Block, error)    { return Block{Number: 1}, nil }
func (gasNode) GenesisBlock(context.Context) (Block, error) { return Block{}, nil }
func (n gasNode) ExecuteClauses(_ context.Context, _ string, cl []Clause) ([]ClauseResult, error) {
	out := make([]ClauseResult, len(cl))
	for i := range out {
		out[i].GasUsed = n.used
	}
	return out, nil
}

// The node is not trusted with the gas: a dry run claiming more than a
// block holds is refused instead of becoming the transaction's gas.
func TestEstimateRefusesImplausibleGas(t *testing.T) {
	o, err := chain.ParseJSONObject(`{"from":"0x7567d83b7b8d80addcb281a71d54fc7b3364ffed","to":"0x0000000000000000000000000000456e65726779","value":"0","data":"0xa9059cbb"}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := estimate(context.Background(), gasNode{used: 30_000}, o); err != nil {
		t.Fatalf("a plausible dry run: %v", err)
	}
	if _, err := estimate(context.Background(), gasNode{used: maxClauseGas + 1}, o); err == nil || !strings.Contains(err.Error(), "more than a block holds") {
		t.Errorf("a dry run past a block's gas: %v", err)
	}
}
