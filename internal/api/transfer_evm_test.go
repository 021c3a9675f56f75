package api

import (
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/chain/evm"
)

// An ETH transfer through the route with the real builder and the dev chain
// as the node: queued as POST /v3/kms would queue it, nonces allocated for
// `from` one after another, gas and gas price and chain id from the node.
func TestEthereumTransferQueuesACompleteTransaction(t *testing.T) {
	e, _, _ := fillEnv(t)
	body := map[string]any{"to": fillRecipient, "amount": "0.5", "currency": "ETH", "from": fillFrom, "signatureId": sigA, "index": 0}
	for want := range 2 {
		var got struct{ SignatureID string }
		e.do("POST", "/v3/ethereum/transaction", e.keyTest, body).want(t, 200, &got)
		var tx struct {
			Chain, SerializedTransaction string
			Hashes                       []string
			Index                        *uint32
		}
		e.do("GET", "/v3/kms/"+got.SignatureID, e.keyTest, nil).want(t, 200, &tx)
		parsed, err := evm.ETH.ParseTx(tx.SerializedTransaction)
		if err != nil {
			t.Fatal(err)
		}
		if tx.Chain != "ETH" || len(tx.Hashes) != 1 || tx.Hashes[0] != sigA || tx.Index == nil || *tx.Index != 0 {
			t.Fatalf("queued %+v", tx)
		}
		if *parsed.Nonce != uint64(want) || *parsed.Gas != 21000 || parsed.GasPrice == nil || parsed.ChainID.Uint64() != 1337 ||
			parsed.Value.String() != "500000000000000000" || !strings.EqualFold(parsed.To.Hex(), fillRecipient) || !strings.EqualFold(parsed.From.Hex(), fillFrom) {
			t.Fatalf("transfer %d queued as %s", want, tx.SerializedTransaction)
		}
	}
	delete(body, "from")
	er := e.do("POST", "/v3/ethereum/transaction", e.keyTest, body).wantError(t, 400, CodeValidation)
	if len(er.Data) != 1 || !strings.HasPrefix(er.Data[0], "from: is required unless nonce and fee are both given") {
		t.Fatalf("data %q", er.Data)
	}

	var est map[string]json.Number
	e.do("POST", "/v3/blockchain/estimate", e.keyTest, map[string]any{"chain": "ETH", "type": "TRANSFER",
		"sender": fillFrom, "recipient": fillRecipient, "amount": "1"}).want(t, 200, &est)
	if est["gasLimit"] != "21000" || est["gasPrice"] == "" {
		t.Fatalf("estimate %v", est)
	}
}

// BenchmarkEthereumTransfer is build requests per second of POST
// /v3/ethereum/transaction (build, nonce allocation, completion, SQLite
// insert) against a node that answers every call after 5 ms, from one
// sender, 32 requests in flight per CPU; "kms" queues the same transfer
// already built through POST /v3/kms, so the difference is the builder's.
func BenchmarkEthereumTransfer(b *testing.B) {
	transfer := `{"to":"` + fillRecipient + `","amount":"0.001","currency":"ETH","from":"` + fillFrom + `","signatureId":"` + sigA + `","index":1}`
	built := `{"chain":"ETH","hashes":["` + sigA + `"],"index":1,"serializedTransaction":"{\"from\":\"` + fillFrom + `\",\"to\":\"` + fillRecipient + `\",\"value\":\"1000000000000000\"}"}`
	b.Run("transfer", func(b *testing.B) { benchmarkQueue(b, "/v3/ethereum/transaction", transfer) })
	b.Run("kms", func(b *testing.B) { benchmarkQueue(b, "/v3/kms", built) })
}

func benchmarkQueue(b *testing.B, path, body string) {
	node := &chaintest.EVMNode{ChainID: 11155111, Gas: 21000, GasPrice: big.NewInt(1_000_000_000), Delay: 5 * time.Millisecond}
	client, err := broadcast.DialEVM(node.Start(b))
	if err != nil {
		b.Fatal(err)
	}
	e := newEnv(b)
	e.srv.lookupChain = chains.Lookup
	e.nodes.Set("ETH", true, client)
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", path, strings.NewReader(body))
			req.Header.Set("X-API-Key", e.keyTest)
			w := httptest.NewRecorder()
			e.srv.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Errorf("status %d: %s", w.Code, w.Body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
}
