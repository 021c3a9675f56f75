package nodetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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
// round trip; once for a whole batch).
type EVM struct {
	ChainID, GasPrice uint64
	Delay             time.Duration
	// NoBatch, set before use, refuses JSON-RPC batches.
	NoBatch bool

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

// rpcCall is one JSON-RPC call.
type rpcCall struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

// ServeHTTP answers one JSON-RPC call, or a batch (a JSON array of calls) as
// geth does: one answer per call, in order, in one array. With NoBatch set
// it answers a batch with one error object, as nodes and gateways that take
// no batches do.
func (n *EVM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		reply(rpcError(nil, -32700, "parse error"))
		return
	}
	if n.Delay > 0 {
		time.Sleep(n.Delay)
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		var calls []rpcCall
		switch {
		case n.NoBatch:
			reply(rpcError(nil, -32600, "batch requests are not supported"))
		case json.Unmarshal(body, &calls) != nil:
			reply(rpcError(nil, -32700, "parse error"))
		case len(calls) == 0:
			reply(rpcError(nil, -32600, "empty batch"))
		default:
			out := make([]map[string]any, len(calls))
			for i, c := range calls {
				out[i] = n.call(c)
			}
			reply(out)
		}
		return
	}
	var c rpcCall
	if err := json.Unmarshal(body, &c); err != nil {
		reply(rpcError(nil, -32700, "parse error"))
		return
	}
	reply(n.call(c))
}

// rpcError is a JSON-RPC error answer.
func rpcError(id json.RawMessage, code int, msg string) map[string]any {
	return map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{"code": code, "message": msg}}
}

// call answers one call.
func (n *EVM) call(req rpcCall) map[string]any {
	answer := func(result any, code int, msg string) map[string]any {
		if msg != "" {
			return rpcError(req.ID, code, msg)
		}
		return map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result}
	}
	// param decodes the first parameter into v.
	param := func(want int, v any) bool {
		return len(req.Params) == want && json.Unmarshal(req.Params[0], v) == nil
	}
	invalid := answer(nil, -32602, "invalid params")
	switch req.Method {
	case "eth_chainId":
		return answer(fmt.Sprintf("0x%x", n.ChainID), 0, "")
	case "eth_getTransactionCount": // [address, "pending"]
		var from common.Address
		if !param(2, &from) {
			return invalid
		}
		return answer(fmt.Sprintf("0x%x", n.Nonce(from)), 0, "")
	case "eth_gasPrice":
		return answer(fmt.Sprintf("0x%x", n.GasPrice), 0, "")
	case "eth_estimateGas":
		return answer("0x5208", 0, "")
	case "eth_sendRawTransaction":
		var raw string
		if !param(1, &raw) {
			return invalid
		}
		var tx types.Transaction
		if err := tx.UnmarshalBinary(common.FromHex(raw)); err != nil {
			return answer(nil, -32000, "rlp: "+err.Error())
		}
		from, err := types.Sender(n.signer, &tx)
		if err != nil {
			return answer(nil, -32000, "invalid sender: "+err.Error())
		}
		n.mu.Lock()
		defer n.mu.Unlock()
		if want := n.sent[from]; tx.Nonce() != want {
			return answer(nil, -32000, fmt.Sprintf("nonce %d, want %d", tx.Nonce(), want))
		}
		n.sent[from]++
		n.pool[tx.Hash()] = &tx
		return answer(tx.Hash().Hex(), 0, "")
	case "eth_getTransactionReceipt": // nothing is mined
		var h common.Hash
		if !param(1, &h) {
			return invalid
		}
		return answer(nil, 0, "")
	case "eth_getTransactionByHash":
		var h common.Hash
		if !param(1, &h) {
			return invalid
		}
		n.mu.Lock()
		tx := n.pool[h]
		n.mu.Unlock()
		if tx == nil {
			return answer(nil, 0, "")
		}
		return answer(tx, 0, "")
	}
	return answer(nil, -32601, "method not found: "+req.Method)
}
