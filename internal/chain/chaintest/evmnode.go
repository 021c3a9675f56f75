package chaintest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// EVMNode is an EVM JSON-RPC node over HTTP answering the calls that
// building, completing and estimating a transfer make (eth_chainId,
// eth_getTransactionCount, eth_gasPrice, eth_estimateGas, and eth_call as a
// token's decimals()), each after Delay. It records the eth_estimateGas
// requests and the methods asked. Set the fields before Start.
type EVMNode struct {
	ChainID  uint64
	Nonce    uint64
	Gas      uint64
	GasPrice *big.Int
	Decimals uint64
	Delay    time.Duration

	mu        sync.Mutex
	estimates []map[string]string
	calls     []string
}

// Start serves the node until the test ends and returns its URL.
func (n *EVMNode) Start(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(n)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Estimates are the eth_estimateGas call objects asked so far.
func (n *EVMNode) Estimates() []map[string]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.estimates)
}

// Calls are the methods asked so far, in order.
func (n *EVMNode) Calls() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.calls)
}

// Reset forgets the calls and estimates recorded.
func (n *EVMNode) Reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.estimates, n.calls = nil, nil
}

func (n *EVMNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req struct {
		ID     json.RawMessage   `json:"id"`
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if n.Delay > 0 {
		time.Sleep(n.Delay)
	}
	n.mu.Lock()
	n.calls = append(n.calls, req.Method)
	n.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	var result any
	switch req.Method {
	case "eth_chainId":
		result = fmt.Sprintf("%#x", n.ChainID)
	case "eth_getTransactionCount":
		result = fmt.Sprintf("%#x", n.Nonce)
	case "eth_gasPrice":
		result = fmt.Sprintf("%#x", n.GasPrice)
	case "eth_estimateGas":
		var msg map[string]string
		if len(req.Params) > 0 {
			_ = json.Unmarshal(req.Params[0], &msg)
		}
		n.mu.Lock()
		n.estimates = append(n.estimates, msg)
		n.mu.Unlock()
		result = fmt.Sprintf("%#x", n.Gas)
	case "eth_call":
		result = fmt.Sprintf("%#x", common.LeftPadBytes(new(big.Int).SetUint64(n.Decimals).Bytes(), 32))
	default:
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"method %s not served"}}`, req.ID, req.Method)
		return
	}
	out, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
	w.Write(out)
}
