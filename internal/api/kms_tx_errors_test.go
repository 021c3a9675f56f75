package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/broadcast"
)

// GET /v3/kms/{id} shows the latest error report and the count once there
// are any, beside Tatum's fields: a signer's batch reports and a node's
// refusal at broadcast count, a node that could not be reached does not.
func TestGetShowsErrors(t *testing.T) {
	e := newEnv(t)
	node := &fakeNode{}
	e.nodes.Set("ETH", false, node)
	id := e.create(e.keyA, "ETH", sigA)
	get := func() map[string]json.RawMessage {
		t.Helper()
		var m map[string]json.RawMessage
		e.do("GET", "/v3/kms/"+id, e.keyA, nil).want(t, 200, &m)
		return m
	}
	if m := get(); m["error"] != nil || m["errorCount"] != nil || string(m["id"]) != `"`+id+`"` {
		t.Fatalf("without reports: %v", m)
	}
	e.do("POST", "/v3/tatum/kms/batch", e.keyA, `{"errors":[{"signatureId":"`+id+`","error":"approval service down"},
		{"signatureId":"`+id+`","error":"Cannot read properties of undefined"}]}`).want(t, 204, nil)
	m := get()
	if string(m["error"]) != `"Cannot read properties of undefined"` || string(m["errorCount"]) != "2" {
		t.Fatalf("after two reports: error %s, errorCount %s", m["error"], m["errorCount"])
	}
	if string(m["hashes"]) != `["`+sigA+`"]` || string(m["chain"]) != `"ETH"` || m["txId"] != nil {
		t.Fatalf("Tatum's fields changed: %v", m)
	}

	node.err = fmt.Errorf("%w: node down", broadcast.ErrUnavailable)
	e.do("POST", "/v3/ethereum/broadcast", e.keyA, `{"txData":"0xsigned","signatureId":"`+id+`"}`).wantError(t, 502, CodeNodeUnavailable)
	if m := get(); string(m["errorCount"]) != "2" {
		t.Fatalf("an unreachable node was kept as an error: %s", m["errorCount"])
	}
	node.err = fmt.Errorf("%w: replacement transaction underpriced", broadcast.ErrRejected)
	e.do("POST", "/v3/ethereum/broadcast", e.keyA, `{"txData":"0xsigned","signatureId":"`+id+`"}`).wantError(t, 403, CodeRejected)
	m = get()
	if !strings.Contains(string(m["error"]), "replacement transaction underpriced") || string(m["errorCount"]) != "3" {
		t.Fatalf("after a refusal: error %s, errorCount %s", m["error"], m["errorCount"])
	}
	// Another tenant's reports never show.
	other := e.create(e.keyB, "ETH", sigA)
	e.do("POST", "/v3/tatum/kms/batch", e.keyA, `{"errors":[{"signatureId":"`+other+`","error":"x"}]}`).want(t, 204, nil)
	var o map[string]json.RawMessage
	e.do("GET", "/v3/kms/"+other, e.keyB, nil).want(t, 200, &o)
	if o["error"] != nil {
		t.Fatalf("a foreign report shows: %v", o)
	}
}
