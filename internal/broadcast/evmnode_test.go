package broadcast

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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

// The node's chain id is asked once: later completions reuse the answer,
// and a failed first answer is not kept.
func TestEVMChainIDAskedOnce(t *testing.T) {
	var asked atomic.Int32
	var fail atomic.Bool
	fail.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		if req.Method == "eth_chainId" {
			asked.Add(1)
		}
		if fail.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		_, _ = fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":"0x539"}`, req.ID)
	}))
	defer srv.Close()
	c, err := DialEVM(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := c.ChainID(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("node down: %v", err)
	}
	fail.Store(false)
	for range 3 {
		id, err := c.ChainID(ctx)
		if err != nil || id.Int64() != 1337 {
			t.Fatalf("ChainID = %v, %v", id, err)
		}
		id.SetInt64(1) // the caller's copy: the kept answer stays
	}
	if got := asked.Load(); got != 2 {
		t.Fatalf("eth_chainId asked %d times, want 2 (the failed answer, then once)", got)
	}
}
