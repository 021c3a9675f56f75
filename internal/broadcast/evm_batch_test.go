package broadcast

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/internal/broadcast/nodetest"
)

// signedRun is n transfers of one new key on chain 1337 with nonces from
// first, as 0x-hex, and their hashes.
func signedRun(t *testing.T, first, n uint64) ([]string, []string) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	var txs, hashes []string
	for nonce := first; nonce < first+n; nonce++ {
		tx, err := types.SignNewTx(key, types.LatestSignerForChainID(big.NewInt(devChain)),
			&types.LegacyTx{Nonce: nonce, To: &common.Address{1}, Value: big.NewInt(1), Gas: 21000, GasPrice: big.NewInt(7)})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := tx.MarshalBinary()
		txs = append(txs, hexutil.Encode(b))
		hashes = append(hashes, tx.Hash().Hex())
	}
	return txs, hashes
}

// countingNode serves h and counts the HTTP requests it gets.
func countingNode(t *testing.T, h http.Handler) (*EVMClient, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := DialEVM(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

func batchCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A batch is one HTTP exchange; each item answers as Broadcast would: the
// node's hashes in order, a txData that is no hex refused without being
// sent, a refused transaction refused (after the one look-up Broadcast
// makes too). A node that takes no batches gets one call per transaction,
// in order, with the same answers.
func TestEVMBatchOneExchange(t *testing.T) {
	for _, noBatch := range []bool{false, true} {
		t.Run(fmt.Sprintf("noBatch=%v", noBatch), func(t *testing.T) {
			node := nodetest.NewEVM(devChain, 7)
			node.NoBatch = noBatch
			c, requests := countingNode(t, node)
			txs, hashes := signedRun(t, 0, 3)
			gapped, _ := signedRun(t, 5, 1)
			in := []string{txs[0], "0xzz", txs[1], txs[2], gapped[0]}
			out := c.BroadcastBatch(batchCtx(t), in)
			if len(out) != len(in) {
				t.Fatalf("%d results for %d", len(out), len(in))
			}
			for i, k := range []int{0, 2, 3} {
				if out[k].Err != nil || out[k].TxID != hashes[i] {
					t.Errorf("item %d: %+v, want %s", k, out[k], hashes[i])
				}
			}
			if !errors.Is(out[1].Err, ErrRejected) || out[1].TxID != "" {
				t.Errorf("no hex: %+v", out[1])
			}
			if !errors.Is(out[4].Err, ErrRejected) || errors.Is(out[4].Err, ErrPermanent) || !strings.Contains(out[4].Err.Error(), "nonce 5, want 0") {
				t.Errorf("gapped nonce: %+v", out[4])
			}
			want := int32(2) // the batch, and the refused one's look-up
			if noBatch {
				want = 1 + 4 + 1 // the refused batch, one call per hex item, the look-up
			}
			if got := requests.Load(); got != want {
				t.Errorf("%d HTTP requests, want %d", got, want)
			}
			if node.Admitted() != 3 {
				t.Errorf("node admitted %d", node.Admitted())
			}
		})
	}
}

// go-ethereum's own JSON-RPC server (the embedded dev chain's) takes a
// batch, and a transaction it already holds answers as its hash.
func TestEVMBatchOnDevChain(t *testing.T) {
	_, nodeURL := devNode(t)
	c, err := DialEVM(nodeURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := batchCtx(t)
	var txs, hashes []string
	for nonce := range 2 {
		s := signETH(t, fmt.Sprintf(`{"to":"%s","value":"1","gasPrice":"50000000000","gas":21000,"nonce":%d,"chainId":1337}`, recipient, nonce))
		txs, hashes = append(txs, s.TxData), append(hashes, s.TxID)
	}
	for round := range 2 {
		out := c.BroadcastBatch(ctx, txs)
		for i := range txs {
			if out[i].Err != nil || !strings.EqualFold(out[i].TxID, hashes[i]) {
				t.Fatalf("round %d item %d: %+v, want %s", round, i, out[i], hashes[i])
			}
		}
	}
}

// fixedNode answers every request with status and body.
func fixedNode(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

// The node's answer is untrusted: an item without exactly one well-formed
// answer of its id, or with another hash than its own, is unavailable,
// never a success; an answer with more entries than calls, cut, followed
// by more data or over the size bound leaves every item unavailable; an
// HTTP error is every item's, without a second request per item.
func TestEVMBatchHostileAnswers(t *testing.T) {
	txs, h := signedRun(t, 0, 3)
	ok := func(id any, hash string) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%v,"result":"%s"}`, id, hash)
	}
	arr := func(entries ...string) string { return "[" + strings.Join(entries, ",") + "]" }
	const U, S = "unavailable", "success"
	for _, c := range []struct {
		name     string
		status   int
		body     string
		want     [3]string
		requests int32
	}{
		{"all answered, out of order", 200, arr(ok(2, h[2]), ok(0, h[0]), ok(1, h[1])), [3]string{S, S, S}, 1},
		{"missing id", 200, arr(ok(0, h[0]), ok(2, h[2])), [3]string{S, U, S}, 1},
		{"duplicate id", 200, arr(ok(0, h[0]), ok(0, h[0]), ok(2, h[2])), [3]string{U, U, S}, 1},
		{"unknown ids", 200, arr(ok(0, h[0]), ok(7, h[1]), ok(-1, h[1])), [3]string{S, U, U}, 1},
		{"id as a string or float", 200, arr(ok(`"0"`, h[0]), ok("1.0", h[1]), ok(2, h[2])), [3]string{U, U, S}, 1},
		{"another hash", 200, arr(ok(0, h[1]), ok(1, h[1]), ok(2, h[2])), [3]string{U, S, S}, 1},
		{"null result", 200, arr(`{"id":0,"result":null}`, ok(1, h[1]), ok(2, h[2])), [3]string{U, S, S}, 1},
		{"result and error", 200, arr(`{"id":0,"result":"`+h[0]+`","error":{"code":1,"message":"x"}}`, ok(1, h[1]), ok(2, h[2])), [3]string{U, S, S}, 1},
		{"garbled result", 200, arr(`{"id":0,"result":"0x12"}`, `{"id":1,"result":7}`, ok(2, h[2])), [3]string{U, U, S}, 1},
		{"already known", 200, arr(`{"id":0,"error":{"code":-32000,"message":"already known"}}`, ok(1, h[1]), ok(2, h[2])), [3]string{S, S, S}, 1},
		{"more entries than calls", 200, arr(ok(0, h[0]), ok(1, h[1]), ok(2, h[2]), ok(0, h[0])), [3]string{U, U, U}, 1},
		{"cut", 200, arr(ok(0, h[0]), ok(1, h[1]), ok(2, h[2]))[:150], [3]string{U, U, U}, 1},
		{"data after the array", 200, arr(ok(0, h[0]), ok(1, h[1]), ok(2, h[2])) + "x", [3]string{U, U, U}, 1},
		{"an entry that is no object", 200, arr(ok(0, h[0]), `7`, ok(2, h[2])), [3]string{U, U, U}, 1},
		{"oversized", 200, arr(ok(0, h[0]), ok(1, h[1]), ok(2, h[2])) + strings.Repeat(" ", maxAnswer), [3]string{U, U, U}, 1},
		{"server error", 500, `{"error":"down"}`, [3]string{U, U, U}, 1},
		{"throttled", 429, `{"jsonrpc":"2.0","id":null,"error":{"code":-32005,"message":"slow down"}}`, [3]string{U, U, U}, 1},
		{"array with an HTTP error", 502, arr(ok(0, h[0]), ok(1, h[1]), ok(2, h[2])), [3]string{U, U, U}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl, requests := countingNode(t, fixedNode(c.status, c.body))
			out := cl.BroadcastBatch(batchCtx(t), txs)
			for i, r := range out {
				switch c.want[i] {
				case S:
					if r.Err != nil || r.TxID != h[i] {
						t.Errorf("item %d: %+v, want %s", i, r, h[i])
					}
				case U:
					if !errors.Is(r.Err, ErrUnavailable) || r.TxID != "" {
						t.Errorf("item %d: %+v, want unavailable", i, r)
					}
				}
			}
			if got := requests.Load(); got != c.requests {
				t.Errorf("%d requests, want %d", got, c.requests)
			}
		})
	}
}

// A node that refuses batches with a client error (HTTP 400, 413) and no
// array gets one call per transaction.
func TestEVMBatchRefusedWithStatus(t *testing.T) {
	node := nodetest.NewEVM(devChain, 7)
	for _, status := range []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge} {
		c, requests := countingNode(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if strings.HasPrefix(string(b), "[") {
				w.WriteHeader(status)
				_, _ = io.WriteString(w, `{"message":"batch requests are not accepted"}`)
				return
			}
			r.Body = io.NopCloser(strings.NewReader(string(b)))
			node.ServeHTTP(w, r)
		}))
		txs, hashes := signedRun(t, 0, 2)
		out := c.BroadcastBatch(batchCtx(t), txs)
		for i := range txs {
			if out[i].Err != nil || out[i].TxID != hashes[i] {
				t.Errorf("HTTP %d item %d: %+v", status, i, out[i])
			}
		}
		if requests.Load() != 3 {
			t.Errorf("HTTP %d: %d requests, want 3", status, requests.Load())
		}
	}
}

// Whatever the node answers, parseBatchAnswer returns one answer per call,
// and a call is answered only from a JSON array of at most one entry per
// call that holds exactly one entry with its id.
func FuzzParseBatchAnswer(f *testing.F) {
	h := common.Hash{1}.Hex()
	for _, s := range []string{
		`[{"id":0,"result":"` + h + `"},{"id":1,"error":{"code":-32000,"message":"nonce too low"}}]`,
		`[{"id":0,"result":"` + h + `"},{"id":0,"result":"` + h + `"}]`,
		`[{"id":0,"result":"` + h + `"},{"id":1,"result":"` + h + `"},{"id":0,"result":"` + h + `"}]`,
		`{"id":null,"error":{"code":-32600,"message":"batch"}}`,
		`[{"id":1e0}]`, `[null]`, `[[]]`, `[`, `[] x`, ``, `[{"id":0,"result":null,"error":null}]`,
	} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, body []byte, n uint8) {
		out := parseBatchAnswer(body, int(n))
		if len(out) != int(n) {
			t.Fatalf("%d answers for %d calls", len(out), n)
		}
		for k, a := range out {
			if !a.ok {
				continue
			}
			var entries []map[string]json.RawMessage
			if !isJSONArray(body) || json.Unmarshal(body, &entries) != nil || len(entries) > int(n) {
				t.Fatalf("call %d answered from %q", k, body)
			}
			with := 0
			for _, e := range entries {
				for key, v := range e {
					// encoding/json matches field names case-insensitively.
					if strings.EqualFold(key, "id") && string(v) == fmt.Sprint(k) {
						with++
						break
					}
				}
			}
			if with != 1 {
				t.Fatalf("call %d answered from %d entries of its id in %q", k, with, body)
			}
		}
	})
}
