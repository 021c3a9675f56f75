package broadcast

// No Stellar network can run here: these tests stand up a local HTTP server
// that implements Horizon's documented POST /transactions (form field tx, the
// transaction resource on success, a problem document on failure) and checks
// the exact request the client sends.

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestStellarBroadcast(t *testing.T) {
	signed, txID := signedVector(t, "XLM")
	status, answer := 200, `{"hash":"`+txID+`","successful":true,"ledger":123}`
	srv := nodeServer(t, "/horizon/transactions", "application/x-www-form-urlencoded", func(body []byte) (int, string) {
		form, err := url.ParseQuery(string(body))
		if err != nil || len(form) != 1 || form.Get("tx") != signed {
			t.Errorf("request body %s", body)
		}
		return status, answer
	})
	nodes, err := Dial([]NodeSpec{{Chain: "XLM", Testnet: true, URL: srv.URL + "/horizon"}}, testDialer)
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := nodes.Client("XLM", true)
	ctx := context.Background()
	if got, err := cl.Broadcast(ctx, signed); err != nil || got != txID {
		t.Fatalf("Broadcast = %s, %v", got, err)
	}
	status, answer = 400, `{"type":"https://stellar.org/horizon-errors/transaction_failed","title":"Transaction Failed","status":400,`+
		`"extras":{"envelope_xdr":"`+signed+`","result_codes":{"transaction":"tx_failed","operations":["op_underfunded"]},"result_xdr":"AAAAAAAAAGT/////AAAAAQAAAAAAAAAB/////gAAAAA="}}`
	if _, err := cl.Broadcast(ctx, signed); !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "op_underfunded") {
		t.Errorf("failed transaction: %v", err)
	}
	status, answer = 400, `{"type":"https://stellar.org/horizon-errors/transaction_malformed","title":"Transaction Malformed","status":400,"detail":"Horizon could not decode the transaction envelope"}`
	if _, err := cl.Broadcast(ctx, signed); !errors.Is(err, ErrRejected) {
		t.Errorf("malformed: %v", err)
	}
	// A timeout leaves the outcome open: not a rejection.
	status, answer = 504, `{"type":"https://stellar.org/horizon-errors/timeout","title":"Timeout","status":504}`
	if _, err := cl.Broadcast(ctx, signed); !errors.Is(err, ErrUnavailable) {
		t.Errorf("timeout: %v", err)
	}
	status, answer = 200, `{"successful":true}`
	if _, err := cl.Broadcast(ctx, signed); !errors.Is(err, ErrUnavailable) {
		t.Errorf("answer without hash: %v", err)
	}
	if _, err := cl.Broadcast(ctx, `{"not":"xdr"}`); !errors.Is(err, ErrRejected) {
		t.Errorf("JSON txData: %v", err)
	}
}
