package broadcast

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// solanaStatusNode answers getSignatureStatuses, isBlockhashValid and
// getTransaction in the shapes Solana's JSON-RPC documents: status is the
// value entry for the asked signature ("null" when unknown).
type solanaStatusNode struct {
	mu             sync.Mutex
	t              *testing.T
	status         string
	blockhashValid bool
	asked          []string
}

func (n *solanaStatusNode) handle(body []byte) (int, string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var req struct {
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
	}
	if json.Unmarshal(body, &req) != nil {
		n.t.Errorf("request %s", body)
	}
	n.asked = append(n.asked, req.Method)
	switch req.Method {
	case "getSignatureStatuses":
		if len(req.Params) != 2 || string(req.Params[1]) != `{"searchTransactionHistory":true}` {
			n.t.Errorf("getSignatureStatuses params %s", req.Params)
		}
		return 200, fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"result":{"context":{"slot":82},"value":[%s]}}`, n.status)
	case "isBlockhashValid":
		return 200, fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"result":{"context":{"slot":82},"value":%t}}`, n.blockhashValid)
	case "getTransaction":
		return 200, `{"jsonrpc":"2.0","id":1,"result":{"slot":72,"blockTime":1700000000,"meta":{"err":null,"fee":5000,"preBalances":[1,2],"postBalances":[1,2]},"transaction":{}}}`
	}
	n.t.Errorf("method %s", req.Method)
	return 400, `{}`
}

func TestSolanaLookup(t *testing.T) {
	signed, txID := signedVector(t, "SOL")
	n := &solanaStatusNode{t: t}
	srv := nodeServer(t, "/", "application/json", n.handle)
	cl, err := DialSolana(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	lookup := lookupOf(t, cl, txID)
	set := func(status string, valid bool) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.status, n.blockhashValid, n.asked = status, valid, nil
	}

	set(`{"slot":72,"confirmations":10,"err":null,"status":{"Ok":null},"confirmationStatus":"confirmed"}`, true)
	if o := lookup(signed); o.Progress != Mined || o.BlockNumber != 72 || o.Confirmations != 0 || o.Failed || o.Fee != "" {
		t.Errorf("confirmed: %+v, want mined in slot 72, not yet final", o)
	}
	set(`{"slot":72,"confirmations":null,"err":null,"status":{"Ok":null},"confirmationStatus":"finalized"}`, true)
	if o := lookup(signed); o.Progress != Mined || o.BlockNumber != 72 || o.Confirmations != 1 || o.Failed || o.Fee != "5000" {
		t.Errorf("finalized: %+v, want mined in slot 72, final, fee 5000", o)
	}
	set(`{"slot":72,"confirmations":null,"err":{"InstructionError":[0,{"Custom":1}]},"status":{"Err":{"InstructionError":[0,{"Custom":1}]}},"confirmationStatus":"finalized"}`, true)
	if o := lookup(signed); o.Progress != Mined || !o.Failed || !strings.Contains(o.Error, `{"InstructionError":[0,{"Custom":1}]}`) || o.Fee != "5000" {
		t.Errorf("failed: %+v, want failed with the node's error and its fee", o)
	}
	set("null", true)
	if o := lookup(signed); o.Progress != Missing {
		t.Errorf("unknown with a valid blockhash: %+v, want missing", o)
	}
	set("null", false)
	if o := lookup(signed); o.Progress != Dropped || !strings.Contains(o.Error, "blockhash expired") {
		t.Errorf("unknown with an expired blockhash: %+v, want dropped", o)
	}
	if want := "getSignatureStatuses isBlockhashValid getSignatureStatuses"; strings.Join(n.asked, " ") != want {
		t.Errorf("asked %v, want %s (the status again before dropped)", n.asked, want)
	}
	set("null", false)
	if o := lookup(""); o.Progress != Unknown {
		t.Errorf("unknown without signed bytes: %+v", o)
	}
	untrusted(t, cl, txID, signed, func(s string) { set(s, true) }, map[string]string{
		"two statuses": `null,null`,
		"not JSON":     `{`,
	})
}
