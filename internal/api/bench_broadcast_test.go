package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/broadcast/nodetest"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/pending"
)

// senderEnv is a server with the real chain codecs whose ETH mainnet node
// is the node double (nodetest.EVM, chain id 1) over HTTP through the real
// EVM client, and n funded-looking senders: the double checks signatures
// and nonces, not balances.
type senderEnv struct {
	*env
	node *nodetest.EVM
	keys []*ecdsa.PrivateKey
}

func newSenderEnv(tb testing.TB, n int) *senderEnv {
	tb.Helper()
	e := newEnv(tb)
	e.srv.lookupChain = chains.Lookup
	node := nodetest.NewEVM(1, 20_000_000_000)
	srv := httptest.NewServer(node)
	tb.Cleanup(srv.Close)
	client, err := broadcast.DialEVM(srv.URL)
	if err != nil {
		tb.Fatal(err)
	}
	e.nodes.Set("ETH", false, client)
	se := &senderEnv{env: e, node: node}
	for range n {
		k, err := crypto.GenerateKey()
		if err != nil {
			tb.Fatal(err)
		}
		se.keys = append(se.keys, k)
	}
	return se
}

// queueRound queues one transfer per sender with nonce round (directly in
// the store) and signs it; it returns the batch items in sender order.
func (se *senderEnv) queueRound(tb testing.TB, round int) []batchItemReq {
	tb.Helper()
	txs := make([]pending.NewTx, len(se.keys))
	for i, k := range se.keys {
		from := strings.ToLower(crypto.PubkeyToAddress(k.PublicKey).Hex())
		txs[i] = pending.NewTx{Chain: "ETH", Hashes: []string{sigA}, SerializedTransaction: fmt.Sprintf(
			`{"from":%q,"to":%q,"value":"1000","nonce":%d,"gas":21000,"gasPrice":"20000000000","chainId":1}`, from, checkTo, round)}
	}
	ids, err := se.store.Create(context.Background(), se.idA, txs...)
	if err != nil {
		tb.Fatal(err)
	}
	items := make([]batchItemReq, len(ids))
	for i, id := range ids {
		s, err := evm.ETH.Sign(context.Background(), chain.SignRequest{Serialized: txs[i].SerializedTransaction,
			Keys: []string{hexutil.Encode(crypto.FromECDSA(se.keys[i]))}})
		if err != nil {
			tb.Fatal(err)
		}
		items[i] = batchItemReq{TxData: s.TxData, SignatureID: id}
	}
	return items
}

// post sends one request to the handler.
func (se *senderEnv) post(path string, body []byte) (int, []byte) {
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.Header.Set("X-API-Key", se.keyA)
	w := httptest.NewRecorder()
	se.srv.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

// sendBatch broadcasts items in one batch request and returns how many
// completed.
func (se *senderEnv) sendBatch(items []batchItemReq) (int, error) {
	body, _ := json.Marshal(map[string]any{"transactions": items})
	code, ans := se.post("/v3/ethereum/broadcast/batch", body)
	var out broadcastBatchResponse
	if code != 200 || json.Unmarshal(ans, &out) != nil {
		return 0, fmt.Errorf("status %d: %.300s", code, ans)
	}
	done := 0
	for _, r := range out.Results {
		if r.Completed {
			done++
		}
	}
	return done, nil
}

// sendSingles broadcasts items with one request each, all at once (as a
// signer broadcasting concurrently does), and returns how many completed.
func (se *senderEnv) sendSingles(items []batchItemReq) (int, error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
		bad  error
	)
	for _, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(it)
			code, ans := se.post("/v3/ethereum/broadcast", body)
			mu.Lock()
			defer mu.Unlock()
			if code == 200 {
				done++
			} else if bad == nil {
				bad = fmt.Errorf("status %d: %.300s", code, ans)
			}
		}()
	}
	wg.Wait()
	return done, bad
}

// A batch through the real EVM client reaches the node double in one
// JSON-RPC batch, and every transaction is checked, admitted and completed.
func TestBroadcastBatchThroughTheEVMClient(t *testing.T) {
	se := newSenderEnv(t, 8)
	for round := range 3 {
		items := se.queueRound(t, round)
		if done, err := se.sendBatch(items); err != nil || done != len(items) {
			t.Fatalf("round %d: %d of %d completed, %v", round, done, len(items), err)
		}
	}
	if se.node.Admitted() != 24 {
		t.Fatalf("the node admitted %d", se.node.Admitted())
	}
	for _, k := range se.keys {
		if n := se.node.Nonce(crypto.PubkeyToAddress(k.PublicKey)); n != 3 {
			t.Fatalf("a sender's next nonce is %d", n)
		}
	}
}

// The server's CPU per broadcast transaction, n at a time: one batch
// request, or n concurrent single requests, through the handler (auth,
// checks, store, node client) to the node double over HTTP. The process's
// CPU includes the double's (it decodes each transaction and recovers its
// sender, about what a node's admission costs); queueing and signing are
// outside the measure.
func benchmarkBroadcast(b *testing.B, n int, batch bool) {
	se := newSenderEnv(b, n)
	var cpu time.Duration
	round := 0
	for b.Loop() {
		b.StopTimer()
		items := se.queueRound(b, round)
		round++
		b.StartTimer()
		cpu0 := cpuTime()
		send := se.sendSingles
		if batch {
			send = se.sendBatch
		}
		done, err := send(items)
		cpu += cpuTime() - cpu0
		if err != nil || done != n {
			b.Fatalf("%d of %d completed: %v", done, n, err)
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N*n), "cpu-ms/tx")
}

func BenchmarkBroadcast64Batch(b *testing.B)   { benchmarkBroadcast(b, 64, true) }
func BenchmarkBroadcast64Singles(b *testing.B) { benchmarkBroadcast(b, 64, false) }

// A full batch (MaxBroadcastBatch), as a busy signer sends it.
func BenchmarkBroadcast256Batch(b *testing.B) { benchmarkBroadcast(b, MaxBroadcastBatch, true) }
