package api

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/pending"
)

// fakeNode stands in for a chain node: it answers a fixed txId or error and
// records what it was sent.
type fakeNode struct {
	mu   sync.Mutex
	sent []string
	txID string
	err  error
}

func (f *fakeNode) Broadcast(_ context.Context, txData string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, txData)
	return f.txID, f.err
}

func TestBroadcastCompletes(t *testing.T) {
	e := newEnv(t)
	main, test := &fakeNode{txID: "0xmainnet-tx-id"}, &fakeNode{txID: "0xtestnet-tx-id"}
	e.nodes.Set("ETH", false, main)
	e.nodes.Set("ETH", true, test)
	id := e.create(e.keyA, "ETH", sigA)

	var out broadcastResponse
	e.do("POST", "/v3/ethereum/broadcast", e.keyA, `{"txData":"0xsigned","signatureId":"`+id+`"}`).want(t, 200, &out)
	if out != (broadcastResponse{TxID: "0xmainnet-tx-id", Completed: true}) || len(main.sent) != 1 || main.sent[0] != "0xsigned" || len(test.sent) != 0 {
		t.Fatalf("out %+v, mainnet sent %v, testnet sent %v", out, main.sent, test.sent)
	}
	var tx pending.Tx
	e.do("GET", "/v3/kms/"+id, e.keyA, nil).want(t, 200, &tx)
	if tx.TxID != "0xmainnet-tx-id" {
		t.Fatalf("not completed: %+v", tx)
	}
	if d, _ := e.store.TxData(context.Background(), e.idA, id); d != "0xsigned" {
		t.Fatalf("txData kept %q", d)
	}
	// A retry of the same broadcast answers the same, without a second submission.
	e.do("POST", "/v3/ethereum/broadcast", e.keyA, `{"txData":"0xsigned","signatureId":"`+id+`"}`).want(t, 200, &out)
	if out.TxID != "0xmainnet-tx-id" || len(main.sent) != 1 {
		t.Fatalf("retry: %+v, sent %d", out, len(main.sent))
	}
	// Other signed bytes for a completed transaction are refused.
	e.do("POST", "/v3/ethereum/broadcast", e.keyA, `{"txData":"0xother","signatureId":"`+id+`"}`).wantError(t, 403, CodeTxCompleted)

	// A testnet key goes through the testnet node.
	tid := e.create(e.keyTest, "ETH", sigA)
	e.do("POST", "/v3/ethereum/broadcast", e.keyTest, `{"txData":"0xt","signatureId":"`+tid+`"}`).want(t, 200, &out)
	if out.TxID != "0xtestnet-tx-id" || len(test.sent) != 1 {
		t.Fatalf("testnet: %+v", out)
	}
	// Without signatureId the transaction is only relayed.
	e.do("POST", "/v3/ethereum/broadcast", e.keyA, `{"txData":"0xraw"}`).want(t, 200, &out)
	if out != (broadcastResponse{TxID: "0xmainnet-tx-id"}) {
		t.Fatalf("relay: %+v", out)
	}
}

func TestBroadcastFailures(t *testing.T) {
	e := newEnv(t)
	node := &fakeNode{}
	e.nodes.Set("ETH", false, node)
	id := e.create(e.keyA, "ETH", sigA)
	body := `{"txData":"0xsigned","signatureId":"` + id + `"}`

	node.err = fmt.Errorf("%w: nonce too low", broadcast.ErrRejected)
	er := e.do("POST", "/v3/ethereum/broadcast", e.keyA, body).wantError(t, 403, CodeRejected)
	if !strings.Contains(er.Message, "nonce too low") {
		t.Fatalf("message %q", er.Message)
	}
	node.err = fmt.Errorf("%w: dial tcp: connection refused", broadcast.ErrUnavailable)
	e.do("POST", "/v3/ethereum/broadcast", e.keyA, body).wantError(t, 502, CodeNodeUnavailable)
	node.err = errors.New("unexpected EOF") // a client that forgot to classify
	e.do("POST", "/v3/ethereum/broadcast", e.keyA, body).wantError(t, 502, CodeNodeUnavailable)
	node.err = nil // a node answering no id
	e.do("POST", "/v3/ethereum/broadcast", e.keyA, body).wantError(t, 502, CodeNodeUnavailable)

	// The failures left the transaction pending with its signed data kept.
	var tx pending.Tx
	e.do("GET", "/v3/kms/"+id, e.keyA, nil).want(t, 200, &tx)
	if tx.TxID != "" {
		t.Fatalf("completed after failures: %+v", tx)
	}
	if d, _ := e.store.TxData(context.Background(), e.idA, id); d != "0xsigned" {
		t.Fatalf("txData %q", d)
	}

	// No node for the key's network: a clear 403 naming the setting.
	tid := e.create(e.keyTest, "ETH", sigA)
	er = e.do("POST", "/v3/ethereum/broadcast", e.keyTest, `{"txData":"0x1","signatureId":"`+tid+`"}`).wantError(t, 403, CodeNoNode)
	if !strings.Contains(er.Message, "ETH testnet") || !strings.Contains(er.Message, "CUSTOS_NODE_ETH_TESTNET") {
		t.Fatalf("message %q", er.Message)
	}
	bid := e.create(e.keyA, "BTC", sigA)
	e.do("POST", "/v3/bitcoin/broadcast", e.keyA, `{"txData":"00","signatureId":"`+bid+`"}`).wantError(t, 403, CodeNoNode)

	// Wrong chain, unknown id.
	e.do("POST", "/v3/bsc/broadcast", e.keyA, body).wantError(t, 403, CodeChainMismatch)
	e.do("POST", "/v3/ethereum/broadcast", e.keyA, `{"txData":"0x1","signatureId":"ffffffffffffffffffffffff"}`).wantError(t, 403, CodeTxNotFound)
}

func TestBroadcastValidation(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ path, body, want string }{
		{"/v3/ether/broadcast", `{"txData":"0x1"}`, "slug: must be one of bnb, bitcoin, ethereum"},
		{"/v3/ETH/broadcast", `{"txData":"0x1"}`, "slug: must be one of"},
		{"/v3/ethereum/broadcast", ``, "body: must not be empty"},
		{"/v3/ethereum/broadcast", `{"signatureId":"ffffffffffffffffffffffff"}`, "txData: must be a non-empty string"},
		{"/v3/ethereum/broadcast", `{"txData":" "}`, "txData: must be a non-empty string"},
		{"/v3/ethereum/broadcast", `{"txData":"0x1","signatureId":"x"}`, "signatureId: must be exactly 24"},
		{"/v3/ethereum/broadcast", `{"txData":1}`, "txData: must not be a JSON number"},
	} {
		er := e.do("POST", c.path, e.keyA, c.body).wantError(t, 400, CodeValidation)
		if !strings.Contains(strings.Join(er.Data, "\n"), c.want) {
			t.Errorf("%s %s: data %q, want %q", c.path, c.body, er.Data, c.want)
		}
	}
}

// cancellingNode accepts every transaction and ends the request's context as
// it does: the client went away while the node took it.
type cancellingNode struct {
	cancel context.CancelFunc
	txID   string
}

func (n *cancellingNode) Broadcast(context.Context, string) (string, error) {
	n.cancel()
	return n.txID, nil
}

func (n *cancellingNode) BroadcastBatch(_ context.Context, txData []string) []broadcast.Result {
	n.cancel()
	out := make([]broadcast.Result, len(txData))
	for i := range out {
		out[i] = broadcast.Result{TxID: fmt.Sprintf("%s-%d", n.txID, i)}
	}
	return out
}

// A transaction the node accepted is completed even when the request's
// context ends as the node answers, on the single route and the batch route.
func TestBroadcastSettlesAfterTheClientLeft(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ path, body func(id string) string }{
		{func(string) string { return "/v3/ethereum/broadcast" }, func(id string) string { return `{"txData":"0xsigned","signatureId":"` + id + `"}` }},
		{func(string) string { return "/v3/ethereum/broadcast/batch" }, func(id string) string { return `{"transactions":[{"txData":"0xsigned","signatureId":"` + id + `"}]}` }},
	} {
		id := e.create(e.keyA, "ETH", sigA)
		ctx, cancel := context.WithCancel(context.Background())
		e.nodes.Set("ETH", false, &cancellingNode{cancel: cancel, txID: "0xaccepted"})
		req := httptest.NewRequest("POST", c.path(id), strings.NewReader(c.body(id))).WithContext(ctx)
		req.Header.Set("X-API-Key", e.keyA)
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", c.path(id), w.Code, w.Body)
		}
		var tx pending.Tx
		e.do("GET", "/v3/kms/"+id, e.keyA, nil).want(t, 200, &tx)
		if !strings.HasPrefix(tx.TxID, "0xaccepted") {
			t.Fatalf("%s: not completed: %+v", c.path(id), tx)
		}
	}
}
