package broadcast

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
)

func TestEVMNodeCallErrors(t *testing.T) {
	_, nodeURL := devNode(t)
	c, err := DialEVM(nodeURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if id, err := c.ChainID(ctx); err != nil || id.Int64() != devChain {
		t.Fatalf("ChainID = %v, %v", id, err)
	}
	to := common.HexToAddress(devFrom)
	// An estimate the sender cannot pay is the node refusing the transaction.
	_, err = c.EstimateGas(ctx, ethereum.CallMsg{From: common.HexToAddress(recipient), To: &to, Value: big.NewInt(1000)})
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "insufficient funds") {
		t.Fatalf("unfunded estimate: %v", err)
	}
	if g, err := c.EstimateGas(ctx, ethereum.CallMsg{From: common.HexToAddress(devFrom), To: &to, Value: big.NewInt(1)}); err != nil || g != 21000 {
		t.Fatalf("estimate = %d, %v", g, err)
	}

	// A node that cannot be reached is unavailable, and its URL's secrets stay out of the error.
	down, err := DialEVM("http://operator:hunter2@127.0.0.1:1/rpc?apikey=sekrit")
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"ChainID":         func() error { _, err := down.ChainID(ctx); return err },
		"PendingNonceAt":  func() error { _, err := down.PendingNonceAt(ctx, to); return err },
		"EstimateGas":     func() error { _, err := down.EstimateGas(ctx, ethereum.CallMsg{To: &to}); return err },
		"SuggestGasPrice": func() error { _, err := down.SuggestGasPrice(ctx); return err },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "sekrit") {
			t.Errorf("%s on a closed port: %v", name, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.SuggestGasPrice(cctx); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
