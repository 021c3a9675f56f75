package broadcast

// No XRP Ledger server can run here: these tests stand up a local HTTP server
// that implements rippled's documented JSON-RPC methods submit (tx_blob,
// engine_result) and tx, and checks the exact request the client sends.

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func TestXRPLBroadcast(t *testing.T) {
	signed, txID := signedVector(t, "XRP")
	submit := `{"result":{"status":"success","engine_result":"tesSUCCESS","engine_result_code":0,"engine_result_message":"The transaction was applied.","tx_blob":"` + signed + `","tx_json":{"hash":"` + txID + `"}}}`
	lookup := `{"result":{"status":"error","error":"txnNotFound"}}`
	var methods []string
	srv := nodeServer(t, "/", "application/json", func(body []byte) (int, string) {
		var req struct {
			Method string           `json:"method"`
			Params []map[string]any `json:"params"`
		}
		if err := json.Unmarshal(body, &req); err != nil || len(req.Params) != 1 {
			t.Errorf("request body %s", body)
			return 400, ""
		}
		methods = append(methods, req.Method)
		switch req.Method {
		case "submit":
			if len(req.Params[0]) != 1 || req.Params[0]["tx_blob"] != signed {
				t.Errorf("submit params %v", req.Params[0])
			}
			return 200, submit
		case "tx":
			if req.Params[0]["transaction"] != txID {
				t.Errorf("tx params %v", req.Params[0])
			}
			return 200, lookup
		}
		t.Errorf("method %s", req.Method)
		return 200, `{}`
	})
	nodes, err := Dial([]NodeSpec{{Chain: "XRP", URL: srv.URL}}, testDialer)
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := nodes.Client("XRP", false)
	ctx := context.Background()
	ok := func(name string) {
		t.Helper()
		if got, err := cl.Broadcast(ctx, signed); err != nil || got != txID {
			t.Errorf("%s: %s, %v", name, got, err)
		}
	}
	fail := func(name string, want error) {
		t.Helper()
		if _, err := cl.Broadcast(ctx, signed); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	ok("tesSUCCESS")
	submit = `{"result":{"status":"success","engine_result":"terQUEUED","engine_result_message":"Held until escalated fee drops.","tx_json":{"hash":"` + txID + `"}}}`
	ok("terQUEUED")
	submit = `{"result":{"status":"success","engine_result":"tefALREADY","engine_result_message":"The exact transaction was already in this ledger.","tx_json":{"hash":"` + txID + `"}}}`
	ok("tefALREADY")
	// The sequence is used: by this very transaction (found by tx), or by another one.
	submit = `{"result":{"status":"success","engine_result":"tefPAST_SEQ","engine_result_message":"This sequence number has already passed.","tx_json":{"hash":"` + txID + `"}}}`
	fail("tefPAST_SEQ, not found", ErrRejected)
	lookup = `{"result":{"status":"success","hash":"` + txID + `","tx_json":{"hash":"` + txID + `"},"validated":true}}`
	methods = nil
	ok("tefPAST_SEQ, applied")
	if len(methods) != 2 || methods[1] != "tx" {
		t.Errorf("methods called: %v", methods)
	}
	submit = `{"result":{"status":"success","engine_result":"tecUNFUNDED_PAYMENT","engine_result_message":"Insufficient XRP balance to send.","tx_json":{"hash":"` + txID + `"}}}`
	fail("tec", ErrRejected)
	submit = `{"result":{"status":"error","error":"invalidTransaction","error_exception":"fails local checks"}}`
	fail("invalidTransaction", ErrRejected)
	submit = `{"result":{"status":"error","error":"tooBusy"}}`
	fail("tooBusy", ErrUnavailable)
	submit = `{"result":{"status":"success","engine_result":"tesSUCCESS","tx_json":{"hash":"00"}}}`
	fail("other hash", ErrUnavailable)
	submit = `[]`
	fail("garbage", ErrUnavailable)
	if _, err := cl.Broadcast(ctx, "zz"); !errors.Is(err, ErrRejected) {
		t.Errorf("bad blob: %v", err)
	}
}
