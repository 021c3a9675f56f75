// Command nodedouble is the chain node of the process benchmark (bench/process):
// a JSON-RPC server that admits ETH transactions as a node's admission does
// (decode, check the chain id, recover the sender, check its nonce) but
// executes nothing, so that what the benchmark measures is Custos and not a
// node's execution. It prints its URL on stdout once it listens; GET /stats
// answers how many transactions it admitted.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	chainID := flag.Uint64("chain-id", 1337, "the chain id transactions must carry")
	gasPrice := flag.Uint64("gas-price", 20_000_000_000, "the gas price answered")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n := &node{chainID: *chainID, gasPrice: *gasPrice,
		signer: types.LatestSignerForChainID(new(big.Int).SetUint64(*chainID)), sent: map[common.Address]uint64{}, pool: map[common.Hash]*types.Transaction{}}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", n.stats)
	mux.HandleFunc("POST /", n.serve)
	srv := &http.Server{Handler: mux}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Printf("http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// node holds, per sender, the next nonce it expects: what it admitted.
type node struct {
	chainID, gasPrice uint64
	signer            types.Signer
	mu                sync.Mutex
	sent              map[common.Address]uint64
	pool              map[common.Hash]*types.Transaction // admitted, never mined
	admitted          int
}

func (n *node) stats(w http.ResponseWriter, _ *http.Request) {
	n.mu.Lock()
	defer n.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int{"admitted": n.admitted, "senders": len(n.sent)})
}

func (n *node) serve(w http.ResponseWriter, r *http.Request) {
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
	switch req.Method {
	case "eth_chainId":
		answer(fmt.Sprintf("0x%x", n.chainID), 0, "")
	case "eth_getTransactionCount": // [address, "pending"]
		var from common.Address
		if len(req.Params) != 2 || json.Unmarshal(req.Params[0], &from) != nil {
			answer(nil, -32602, "invalid params")
			return
		}
		n.mu.Lock()
		c := n.sent[from]
		n.mu.Unlock()
		answer(fmt.Sprintf("0x%x", c), 0, "")
	case "eth_gasPrice":
		answer(fmt.Sprintf("0x%x", n.gasPrice), 0, "")
	case "eth_estimateGas":
		answer("0x5208", 0, "")
	case "eth_sendRawTransaction":
		var raw string
		if len(req.Params) != 1 || json.Unmarshal(req.Params[0], &raw) != nil {
			answer(nil, -32602, "invalid params")
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
			answer(nil, -32000, fmt.Sprintf("nonce too low or gapped: %d, want %d", tx.Nonce(), want))
			return
		}
		n.sent[from]++
		n.pool[tx.Hash()] = &tx
		n.admitted++
		n.mu.Unlock()
		answer(tx.Hash().Hex(), 0, "")
	case "eth_getTransactionReceipt": // nothing is mined
		answer(nil, 0, "")
	case "eth_getTransactionByHash": // what it admitted waits in its pool
		var h common.Hash
		if len(req.Params) != 1 || json.Unmarshal(req.Params[0], &h) != nil {
			answer(nil, -32602, "invalid params")
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
