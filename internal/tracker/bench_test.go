//go:build unix

package tracker

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/sqlite"
)

// nodeDoubleEnv makes the test binary the EVM node double of
// BenchmarkTrackingCost instead of running tests: its value is the block
// period in milliseconds. The double runs in its own process so that the
// benchmark's CPU time is the tracker's and the store's alone.
const nodeDoubleEnv = "CUSTOS_TRACKER_NODE_DOUBLE"

var benchScale = flag.Int("tracker.scale", 4, "BenchmarkTrackingCost: how many times as fast as real time its clocks run")

func TestMain(m *testing.M) {
	if v := os.Getenv(nodeDoubleEnv); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		serveNodeDouble(time.Duration(ms) * time.Millisecond)
		return
	}
	os.Exit(m.Run())
}

// spread is how many blocks the benchmark's transactions are mined across.
const spread = 10

// serveNodeDouble answers the JSON-RPC calls of broadcast.EVMClient.Lookup
// like a chain whose head moves one block per period from its start:
// transaction number i (hash i+1) waits in the pool until block 1 + i mod
// spread, which mines it. It prints its URL, counts every request by method
// (GET /stats) and exits when its standard input closes.
func serveNodeDouble(period time.Duration) {
	start := time.Now()
	head := func() uint64 { return uint64(time.Since(start) / period) }
	key, _ := crypto.GenerateKey()
	to := common.Address{1}
	signed, err := types.SignNewTx(key, types.LatestSignerForChainID(big.NewInt(1)), &types.DynamicFeeTx{
		ChainID: big.NewInt(1), GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(2e9), Gas: 21000, To: &to, Value: big.NewInt(1)})
	if err != nil {
		panic(err)
	}
	pooled, _ := signed.MarshalJSON()
	bloom := "0x" + strings.Repeat("0", 512)
	var mu sync.Mutex
	counts := map[string]int{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		json.NewEncoder(w).Encode(counts)
	})
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params []string        `json:"params"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		counts[req.Method]++
		mu.Unlock()
		var result any
		switch req.Method {
		case "eth_blockNumber":
			result = fmt.Sprintf("0x%x", head())
		case "eth_getTransactionReceipt", "eth_getTransactionByHash":
			n, _ := new(big.Int).SetString(strings.TrimPrefix(req.Params[0], "0x"), 16)
			block := 1 + (n.Uint64()-1)%spread
			switch {
			case head() < block && req.Method == "eth_getTransactionByHash":
				result = json.RawMessage(pooled)
			case head() < block || req.Method == "eth_getTransactionByHash":
				result = nil
			default:
				result = map[string]any{"transactionHash": req.Params[0], "blockHash": common.BigToHash(new(big.Int).SetUint64(block)),
					"blockNumber": fmt.Sprintf("0x%x", block), "transactionIndex": "0x0", "cumulativeGasUsed": "0x5208",
					"gasUsed": "0x5208", "effectiveGasPrice": "0x3b9aca00", "logs": []any{}, "logsBloom": bloom,
					"status": "0x1", "type": "0x2", "contractAddress": nil}
			}
		default:
			http.Error(w, "unexpected method "+req.Method, http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Println("http://" + l.Addr().String())
	go http.Serve(l, mux)
	io.Copy(io.Discard, os.Stdin)
}

// finalCounter is the store as the tracker sees it, counting the recorded
// checks and the final ones.
type finalCounter struct {
	Store
	checks, final atomic.Int64
	done          chan struct{}
	want          int64
}

func (f *finalCounter) RecordOutcome(ctx context.Context, owner string, u pending.OutcomeUpdate) error {
	err := f.Store.RecordOutcome(ctx, owner, u)
	f.checks.Add(1)
	if err == nil && u.State != pending.StateBroadcast && f.final.Add(1) == f.want {
		close(f.done)
	}
	return err
}

// BenchmarkTrackingCost follows 10,000 broadcast ETH transactions, all in
// flight at once, until each is confirmed at ETH's default depth (12),
// against a node double in its own process. Time runs -tracker.scale times
// as fast as with the tracker's defaults and ETH's 12 s block (4: a block
// every 3 s, BaseDelay 500 ms, MaxDelay 30 s, Poll 250 ms). It reports the
// node requests and checks per transaction until final, the tracker's and
// the store's CPU time per transaction, and the wall time until the last
// one is final.
func BenchmarkTrackingCost(b *testing.B) {
	const n = 10_000
	scale := time.Duration(*benchScale)
	block, base := 12*time.Second/scale, DefaultBaseDelay/scale
	depth := chains.Confirmations()["ETH"]
	for range b.N {
		b.StopTimer()
		ctx := context.Background()
		store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "t.db"))
		if err != nil {
			b.Fatal(err)
		}
		newTxs := make([]pending.NewTx, n)
		for i := range newTxs {
			newTxs[i] = pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{}}
		}
		ids, err := store.Create(ctx, tenant, newTxs...)
		if err != nil {
			b.Fatal(err)
		}
		for i, id := range ids {
			if err := store.Complete(ctx, tenant, id, fmt.Sprintf("0x%064x", i+1)); err != nil {
				b.Fatal(err)
			}
		}

		double := exec.Command(os.Args[0], "-test.run=^$")
		double.Env = append(os.Environ(), nodeDoubleEnv+"="+strconv.Itoa(int(block/time.Millisecond)))
		stdin, _ := double.StdinPipe()
		stdout, _ := double.StdoutPipe()
		double.Stderr = os.Stderr
		if err := double.Start(); err != nil {
			b.Fatal(err)
		}
		url, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		url = strings.TrimSpace(url)
		nodes, err := broadcast.Dial([]broadcast.NodeSpec{{Chain: "ETH", URL: url}}, chains.Dialer)
		if err != nil {
			b.Fatal(err)
		}
		counter := &finalCounter{Store: store, done: make(chan struct{}), want: n}
		tr := New(Config{Store: counter, Nodes: nodes, Depth: map[string]uint64{"ETH": depth},
			BaseDelay: base, MaxDelay: DefaultMaxDelay / scale, Poll: DefaultPoll / scale})
		runCtx, cancel := context.WithCancel(ctx)
		cpu0, t0 := cpuTime(b), time.Now()
		b.StartTimer()
		stopped := make(chan struct{})
		go func() { defer close(stopped); tr.Run(runCtx) }()
		select {
		case <-counter.done:
		case <-time.After(10 * time.Minute):
			b.Fatalf("%d of %d final after 10 minutes", counter.final.Load(), n)
		}
		b.StopTimer()
		wall, cpu := time.Since(t0), cpuTime(b)-cpu0
		cancel()
		<-stopped

		resp, err := http.Get(url + "/stats")
		if err != nil {
			b.Fatal(err)
		}
		var counts map[string]int
		json.NewDecoder(resp.Body).Decode(&counts)
		resp.Body.Close()
		stdin.Close()
		double.Wait()
		store.Close()
		requests := 0
		for _, c := range counts {
			requests += c
		}
		b.Logf("node requests by method: %v", counts)
		b.ReportMetric(float64(requests)/n, "requests/tx")
		b.ReportMetric(float64(counter.checks.Load())/n, "checks/tx")
		b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/tx")
		b.ReportMetric(wall.Seconds(), "s-to-final")
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
