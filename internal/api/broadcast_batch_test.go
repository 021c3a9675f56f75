package api

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/pending"
)

// scriptedNode answers each txData as its script says (a txId named after
// the txData by default) and records every exchange: one per Broadcast.
type scriptedNode struct {
	mu        sync.Mutex
	script    map[string]error
	exchanges [][]string
}

func (n *scriptedNode) answer(txData string) broadcast.Result {
	if err := n.script[txData]; err != nil {
		return broadcast.Result{Err: err}
	}
	return broadcast.Result{TxID: "0xid-" + txData[len(txData)-8:]}
}

func (n *scriptedNode) Broadcast(_ context.Context, txData string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.exchanges = append(n.exchanges, []string{txData})
	r := n.answer(txData)
	return r.TxID, r.Err
}

// batchingNode is a scriptedNode that takes batches: one exchange each.
type batchingNode struct{ *scriptedNode }

func (n batchingNode) BroadcastBatch(_ context.Context, txData []string) []broadcast.Result {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.exchanges = append(n.exchanges, txData)
	out := make([]broadcast.Result, len(txData))
	for i, d := range txData {
		out[i] = n.answer(d)
	}
	return out
}

// batchItemReq is one item of a batch request.
type batchItemReq struct {
	TxData      string `json:"txData"`
	SignatureID string `json:"signatureId"`
}

// mixedBatch queues, in a fresh checkEnv with node installed for ETH
// mainnet, the transactions of a batch that meets every outcome of the
// single route, and returns the batch's items in order: an honest one, one
// signed with another amount, one completed earlier with the same bytes
// (answered again), one completed earlier with other bytes, an unknown id,
// one the node refuses for good, one it refuses for now, one it gives no
// usable answer for, one of another chain, txData that is no ETH
// transaction, and a second honest one.
func mixedBatch(t *testing.T, node broadcast.Client) (*env, *scriptedNode, []batchItemReq) {
	e, _, _ := checkEnv(t)
	e.nodes.Set("ETH", false, node)
	sn := node.(interface{ base() *scriptedNode }).base()
	queue := func(chain string, nonce int) (string, string) {
		edit := map[string]any{"nonce": nonce}
		if chain == "BSC" {
			edit["chainId"] = 56
		}
		ser := ethTx(t, edit)
		var created struct{ ID string }
		e.do("POST", "/v3/kms", e.keyA, map[string]any{"chain": chain, "serializedTransaction": ser, "hashes": []string{sigA}}).want(t, 200, &created)
		if chain != "ETH" {
			return created.ID, ""
		}
		return created.ID, ethSign(t, ser, checkKey0)
	}
	var items []batchItemReq
	add := func(id, txData string) { items = append(items, batchItemReq{txData, id}) }

	id, signed := queue("ETH", 1)
	add(id, signed)
	id, _ = queue("ETH", 2)
	add(id, ethSign(t, ethTx(t, map[string]any{"nonce": 2, "value": "999"}), checkKey0))
	id, signed = queue("ETH", 3)
	e.broadcastBody("ethereum", e.keyA, id, signed).want(t, 200, nil)
	add(id, signed)
	id, signed = queue("ETH", 4)
	e.broadcastBody("ethereum", e.keyA, id, signed).want(t, 200, nil)
	add(id, ethSign(t, ethTx(t, map[string]any{"nonce": 4, "gasPrice": "1"}), checkKey0))
	add("ffffffffffffffffffffffff", signed)
	id, signed = queue("ETH", 5)
	sn.script[signed] = fmt.Errorf("%w: %w: nonce too low", broadcast.ErrRejected, broadcast.ErrPermanent)
	add(id, signed)
	id, signed = queue("ETH", 6)
	sn.script[signed] = fmt.Errorf("%w: replacement transaction underpriced", broadcast.ErrRejected)
	add(id, signed)
	id, signed = queue("ETH", 10)
	sn.script[signed] = fmt.Errorf("%w: eth_sendRawTransaction batch: no usable answer", broadcast.ErrUnavailable)
	add(id, signed)
	id, _ = queue("BSC", 7)
	add(id, "0xbsc-signed")
	id, _ = queue("ETH", 8)
	add(id, "0xsigned")
	id, signed = queue("ETH", 9)
	add(id, signed)
	sn.exchanges = nil
	return e, sn, items
}

func (n *scriptedNode) base() *scriptedNode { return n }
func (n batchingNode) base() *scriptedNode  { return n.scriptedNode }

func newScripted() *scriptedNode { return &scriptedNode{script: map[string]error{}} }

// itemState is what the store keeps of a transaction after a broadcast.
type itemState struct {
	TxID, TxData, LastError string
	State                   pending.State
	Err                     string
}

func stateOf(e *env, id string) itemState {
	ctx := context.Background()
	tx, err := e.store.Get(ctx, e.idA, id)
	if err != nil {
		return itemState{Err: err.Error()}
	}
	d, _ := e.store.TxData(ctx, e.idA, id)
	last, _, _ := e.store.LastError(ctx, e.idA, id)
	return itemState{TxID: tx.TxID, TxData: d, LastError: last, State: tx.State}
}

// Each item of a batch answers exactly what the single route answers for
// it alone (the same txId, or the same error body), and leaves the store
// as the single route does; the node gets the items that passed their
// checks, in order, in one exchange when its client takes batches.
func TestBroadcastBatchEqualsSingle(t *testing.T) {
	for _, batching := range []bool{true, false} {
		t.Run(fmt.Sprintf("batching=%v", batching), func(t *testing.T) {
			mk := func() broadcast.Client {
				if batching {
					return batchingNode{newScripted()}
				}
				return newScripted()
			}
			be, bnode, items := mixedBatch(t, mk())
			se, snode, singles := mixedBatch(t, mk())

			var out broadcastBatchResponse
			be.do("POST", "/v3/ethereum/broadcast/batch", be.keyA, map[string]any{"transactions": items}).want(t, 200, &out)
			if len(out.Results) != len(items) {
				t.Fatalf("%d results for %d items", len(out.Results), len(items))
			}
			var codes []string
			for i, it := range singles {
				r := se.broadcastBody("ethereum", se.keyA, it.SignatureID, it.TxData)
				got := out.Results[i]
				if got.SignatureID != items[i].SignatureID {
					t.Errorf("item %d answers for %s, not %s", i, got.SignatureID, items[i].SignatureID)
				}
				if r.status == 200 {
					var want broadcastResponse
					r.want(t, 200, &want)
					if got.Error != nil || got.TxID != want.TxID || !got.Completed {
						t.Errorf("item %d: %+v, the single route answered %+v", i, got, want)
					}
					codes = append(codes, "ok")
				} else {
					var want Error
					r.want(t, r.status, &want)
					if got.Error == nil || !reflect.DeepEqual(*got.Error, want) || got.TxID != "" {
						t.Errorf("item %d: %+v, the single route answered %d %+v", i, got.Error, r.status, want)
					}
					codes = append(codes, want.ErrorCode)
				}
				if b, s := stateOf(be, items[i].SignatureID), stateOf(se, it.SignatureID); b != s {
					t.Errorf("item %d leaves %+v, the single route %+v", i, b, s)
				}
			}
			wantCodes := []string{"ok", CodeTxMismatch, "ok", CodeTxCompleted, CodeTxNotFound, CodeTxFailed, CodeRejected,
				CodeNodeUnavailable, CodeChainMismatch, CodeValidation, "ok"}
			if !reflect.DeepEqual(codes, wantCodes) {
				t.Errorf("outcomes %v, want %v", codes, wantCodes)
			}
			sent := []string{items[0].TxData, items[5].TxData, items[6].TxData, items[7].TxData, items[10].TxData}
			var wantExchanges [][]string
			if batching {
				wantExchanges = [][]string{sent}
			} else {
				for _, d := range sent {
					wantExchanges = append(wantExchanges, []string{d})
				}
			}
			if !reflect.DeepEqual(bnode.exchanges, wantExchanges) {
				t.Errorf("the node got %d exchanges %v, want %v", len(bnode.exchanges), bnode.exchanges, wantExchanges)
			}
			if len(snode.exchanges) != len(sent) {
				t.Errorf("the single route made %d exchanges", len(snode.exchanges))
			}
		})
	}
}

// A problem of the whole request is answered as the single route answers
// one, with no results, and nothing is read, stored or sent.
func TestBroadcastBatchWholeRequest(t *testing.T) {
	e := newEnv(t)
	node := batchingNode{newScripted()}
	e.nodes.Set("ETH", false, node)
	id := e.create(e.keyA, "ETH", sigA)
	item := func(id, txData string) map[string]any { return map[string]any{"txData": txData, "signatureId": id} }
	many := make([]map[string]any, MaxBroadcastBatch+1)
	for i := range many {
		many[i] = item(fmt.Sprintf("%024d", i), "0x01")
	}
	for _, c := range []struct {
		name, path string
		body       any
		want       string
	}{
		{"unknown slug", "/v3/ether/broadcast/batch", map[string]any{"transactions": []any{item(id, "0x01")}}, "slug: must be one of"},
		{"empty body", "/v3/ethereum/broadcast/batch", "", "body: must not be empty"},
		{"not JSON", "/v3/ethereum/broadcast/batch", "{", "body:"},
		{"no transactions", "/v3/ethereum/broadcast/batch", `{}`, "transactions: must be a non-empty array"},
		{"empty transactions", "/v3/ethereum/broadcast/batch", `{"transactions":[]}`, "transactions: must be a non-empty array"},
		{"too many", "/v3/ethereum/broadcast/batch", map[string]any{"transactions": many}, "transactions: must hold at most 256 items"},
		{"no signatureId", "/v3/ethereum/broadcast/batch", `{"transactions":[{"txData":"0x01"}]}`, "transactions[0].signatureId: must be exactly 24"},
		{"bad signatureId", "/v3/ethereum/broadcast/batch", map[string]any{"transactions": []any{item(id, "0x01"), item("x", "0x01")}}, "transactions[1].signatureId: must be exactly 24"},
		{"no txData", "/v3/ethereum/broadcast/batch", `{"transactions":[{"signatureId":"` + id + `","txData":" "}]}`, "transactions[0].txData: must be a non-empty string"},
		{"txData too large", "/v3/ethereum/broadcast/batch", map[string]any{"transactions": []any{item(id, "0x"+strings.Repeat("0", MaxTxBody))}}, "transactions[0].txData: must be at most"},
		{"repeated signatureId", "/v3/ethereum/broadcast/batch", map[string]any{"transactions": []any{item(id, "0x01"), item(id, "0x01")}}, "transactions[1].signatureId: repeats transactions[0]'s"},
		{"null item", "/v3/ethereum/broadcast/batch", `{"transactions":[null]}`, "transactions[0].txData: must be a non-empty string"},
		{"wrong type", "/v3/ethereum/broadcast/batch", `{"transactions":{}}`, "transactions:"},
	} {
		er := e.do("POST", c.path, e.keyA, c.body).wantError(t, 400, CodeValidation)
		if !strings.Contains(strings.Join(er.Data, "\n"), c.want) {
			t.Errorf("%s: data %q, want %q", c.name, er.Data, c.want)
		}
	}
	e.do("POST", "/v3/ethereum/broadcast/batch", e.keyA, strings.Repeat(" ", MaxBroadcastBatchBody+1)).wantError(t, 413, CodeBodyTooLarge)
	good := map[string]any{"transactions": []any{item(id, "0x01")}}
	e.do("POST", "/v3/ethereum/broadcast/batch", "", good).wantError(t, 401, CodeUnauthorized)
	queueOnly, _ := e.scopedKey("q", false, pending.ScopeQueue)
	e.do("POST", "/v3/ethereum/broadcast/batch", queueOnly, good).wantError(t, 403, CodeScopeMissing)
	if len(node.exchanges) != 0 {
		t.Errorf("the node got %d exchanges", len(node.exchanges))
	}
	if d, _ := e.store.TxData(context.Background(), e.idA, id); d != "" {
		t.Errorf("txData %q stored", d)
	}

	// Both routes decode with one decoder: a field it does not know is
	// taken, or refused, alike.
	other := e.create(e.keyA, "ETH", sigA)
	single := e.do("POST", "/v3/ethereum/broadcast", e.keyA, `{"txData":"0x0000000001","signatureId":"`+id+`","extra":1}`)
	batch := e.do("POST", "/v3/ethereum/broadcast/batch", e.keyA, `{"transactions":[{"txData":"0x0000000002","signatureId":"`+other+`","extra":1}],"extra":1}`)
	var out broadcastBatchResponse
	if single.status != batch.status || json.Unmarshal(batch.body, &out) != nil || (single.status == 200) != (len(out.Results) == 1 && out.Results[0].Completed) {
		t.Errorf("an unknown field: the single route answers %d %s, the batch %d %s", single.status, single.body, batch.status, batch.body)
	}
}

// The results are the route's JSON: one object per item with the
// signatureId, and either txId with completed, or error.
func TestBroadcastBatchAnswerShape(t *testing.T) {
	e := newEnv(t)
	e.nodes.Set("ETH", false, batchingNode{newScripted()})
	id := e.create(e.keyA, "ETH", sigA)
	r := e.do("POST", "/v3/ethereum/broadcast/batch", e.keyA,
		`{"transactions":[{"txData":"0x0000000001","signatureId":"`+id+`"},{"txData":"0x01","signatureId":"ffffffffffffffffffffffff"}]}`)
	var raw map[string][]map[string]json.RawMessage
	r.want(t, 200, &raw)
	res := raw["results"]
	if len(raw) != 1 || len(res) != 2 {
		t.Fatalf("answer %s", r.body)
	}
	if string(res[0]["signatureId"]) != `"`+id+`"` || string(res[0]["txId"]) != `"0xid-00000001"` || string(res[0]["completed"]) != "true" || len(res[0]) != 3 {
		t.Errorf("success %s", r.body)
	}
	if string(res[1]["signatureId"]) != `"ffffffffffffffffffffffff"` || len(res[1]) != 2 ||
		string(res[1]["error"]) != `{"errorCode":"kms.tx.notFound","message":"Transaction not found.","statusCode":403}` {
		t.Errorf("error %s", r.body)
	}
}

// The batch's checks run on a bounded set of workers: every item goes to f
// exactly once with its own index, and never more than the bound at once,
// though the workers do overlap.
func TestSomeBoundsItsWorkers(t *testing.T) {
	items := make([]*broadcastItem, 100)
	for i := range items {
		items[i] = &broadcastItem{id: fmt.Sprint(i)}
	}
	const workers = 4
	var (
		running, most atomic.Int32
		seen          [100]atomic.Int32
	)
	some(items, workers, func(i int, it *broadcastItem) {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if it != items[i] {
			t.Errorf("item %s came with index %d", it.id, i)
		}
		seen[i].Add(1)
		time.Sleep(time.Millisecond) // long enough for the workers to overlap
	})
	for i := range seen {
		if n := seen[i].Load(); n != 1 {
			t.Errorf("item %d was given %d times", i, n)
		}
	}
	if m := most.Load(); m > workers || m < 2 {
		t.Errorf("%d ran at once, want 2 to %d", m, workers)
	}
}
