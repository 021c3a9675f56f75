package nodetest

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// EVM answers the JSON-RPC methods the server calls as a node's admission
// does, executing nothing: eth_sendRawTransaction decodes the signed
// transaction, checks its chain id, recovers the sender from the signature
// with go-ethereum and takes only the sender's next nonce; what it took stays
// in its pool, never mined (eth_getTransactionByHash finds it, its receipt is
// null). It answers the sender's pending count (what it took), the chain id,
// the gas price and a 21,000 gas estimate, which complete a Tatum-form
// transfer. Delay, set before use, waits before each answer (a remote node's
// round trip).
type EVM struct {
	ChainID, GasPrice uint64
	Delay             time.Duration

	signer types.Signer
	mu     sync.Mutex
	sent   map[common.Address]uint64
	pool   map[common.Hash]*types.Transaction
}

// NewEVM is a node of chain id chainID quoting gasPrice wei.
func NewEVM(chainID, gasPrice uint64) *EVM {
	return &EVM{ChainID: chainID, GasPrice: gasPrice, signer: types.LatestSignerForChainID(new(big.Int).SetUint64(chainID)),
		sent: map[common.Address]uint64{}, pool: map[common.Hash]*types.Transaction{}}
}

// Nonce is the next nonce the node takes from a: how many it took.
func (n *EVM) Nonce(a common.Address) uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sent[a]
}

// Admitted is how many transactions the node took.
func (n *EVM) Admitted() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.pool)
}

func (n *EVM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID     json.RawMessage   `json:"id"`
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
	}
	answer := func(result any, code int, msg string) {
		out := map[string]any{"jsonrpc": "2.0", "id": req.ID}
		if msg != "" {
			out["error"] = map[string]any{"code": code, "message": msg}
		} else {
			out["result"] = result
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		answer(nil, -32700, "parse error")
		return
	}
	if n.Delay > 0 {
		time.Sleep(n.Delay)
	}
	// param decodes the first parameter into v.
	param := func(want int, v any) bool {
		if len(req.Params) != want || json.Unmarshal(req.Params[0], v) != nil {
			answer(nil, -32602, "invalid params")
			return false
		}
		return true
	}
	switch req.Method {
	case "eth_chainId":
		answer(fmt.Sprintf("0x%x", n.ChainID), 0, "")
	case "eth_getTransactionCount": // [address, "pending"]
		var from common.Address
		if param(2, &from) {
			answer(fmt.Sprintf("0x%x", n.Nonce(from)), 0, "")
		}
	case "eth_gasPrice":
		answer(fmt.Sprintf("0x%x", n.GasPrice), 0, "")
	case "eth_estimateGas":
		answer("0x5208", 0, "")
	case "eth_sendRawTransaction":
		var raw string
		if !param(1, &raw) {
			return
		}
		var tx types.Transaction
		if err := tx.UnmarshalBinary(common.FromHex(raw)); err != nil {
			answer(nil, -32000, "rlp: "+err.Error())
			return
		}
		from, err := types.Sender(n.signer, &tx)
		if err != nil {
			answer(nil, -32000, "invalid sender: "+err.Error())
			return
		}
		n.mu.Lock()
		if want := n.sent[from]; tx.Nonce() != want {
			n.mu.Unlock()
			answer(nil, -32000, fmt.Sprintf("nonce %d, want %d", tx.Nonce(), want))
			return
		}
		n.sent[from]++
		n.pool[tx.Hash()] = &tx
		n.mu.Unlock()
		answer(tx.Hash().Hex(), 0, "")
	case "eth_getTransactionReceipt": // nothing is mined
		var h common.Hash
		if param(1, &h) {
			answer(nil, 0, "")
		}
	case "eth_getTransactionByHash":
		var h common.Hash
		if !param(1, &h) {
			return
		}
		n.mu.Lock()
		tx := n.pool[h]
		n.mu.Unlock()
		if tx == nil {
			answer(nil, 0, "")
			return
		}
		answer(tx, 0, "")
	default:
		answer(nil, -32601, "method not found: "+req.Method)
	}
}
