package broadcast

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/custoskms/custos/internal/chain/egld"
)

// TestMultiversXLookup follows a signed transaction through the gateway's
// documented answers: GET /transaction/{hash}?withResults=true (status,
// hyperblockNonce, fee), GET /network/status/4294967295 (the metachain's
// nonce) and GET /address/{bech32}/nonce, wrapped in {"data","error","code"}.
func TestMultiversXLookup(t *testing.T) {
	signed, txID := signedVector(t, "EGLD")
	tx, err := egld.ParseSigned(signed)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		status = http.StatusOK
		body   string // GET /transaction's; "" answers the gateway's not-found
		nonce  = tx.Nonce
		asked  []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, r.URL.Path)
		switch r.URL.Path {
		case "/transaction/" + txID:
			if r.URL.Query().Get("withResults") != "true" {
				t.Errorf("GET %s without withResults=true", r.URL)
			}
			if body == "" {
				w.WriteHeader(404)
				fmt.Fprint(w, `{"data":null,"error":"transaction not found","code":"internal_issue"}`)
				return
			}
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		case "/network/status/4294967295":
			fmt.Fprint(w, `{"data":{"status":{"erd_current_round":19000500,"erd_epoch_number":1300,"erd_highest_final_nonce":19000498,"erd_nonce":19000499}},"error":"","code":"successful"}`)
		case "/address/" + tx.Sender + "/nonce":
			fmt.Fprintf(w, `{"data":{"nonce":%d},"error":"","code":"successful"}`, nonce)
		default:
			t.Errorf("GET %s", r.URL.Path)
		}
	}))
	t.Cleanup(srv.Close)
	cl, err := DialMultiversX(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	look := lookupOf(t, cl, txID)
	answer := func(st string, hyper int) string {
		return `{"data":{"transaction":{"type":"normal","processingTypeOnSource":"MoveBalance","hash":"` + txID + `","nonce":` + fmt.Sprint(tx.Nonce) +
			`,"sender":"` + tx.Sender + `","status":"` + st + `","blockNonce":777,"hyperblockNonce":` + fmt.Sprint(hyper) + `,"fee":"50000000000000","gasUsed":50000}},"error":"","code":"successful"}`
	}

	body = answer("success", 19000490)
	if o := look(signed); o != (Outcome{Progress: Mined, BlockNumber: 19000490, Confirmations: 10, Fee: "50000000000000"}) {
		t.Fatalf("success: %+v", o)
	}
	body = answer("fail", 19000499)
	if o := look(signed); o != (Outcome{Progress: Mined, BlockNumber: 19000499, Confirmations: 1, Fee: "50000000000000", Failed: true, Error: "status fail"}) {
		t.Fatalf("fail: %+v", o)
	}
	body = answer("invalid", 19000499)
	if o := look(signed); !o.Failed || o.Error != "status invalid" {
		t.Fatalf("invalid: %+v", o)
	}
	for name, b := range map[string]string{"pending": answer("pending", 0), "success, not notarized": answer("success", 0)} {
		body = b
		if o := look(signed); o != (Outcome{Progress: Pending}) {
			t.Fatalf("%s: %+v", name, o)
		}
	}
	untrusted(t, cl, txID, signed, func(a string) { body = a }, map[string]string{
		"another hash":   strings.Replace(answer("success", 1), txID, strings.Repeat("ee", 32), 1),
		"no transaction": `{"data":{},"error":"","code":"successful"}`,
		"an error code":  `{"data":null,"error":"cannot reach observers","code":"internal_issue"}`,
		"not json":       `<html>`,
	})

	body = ""
	if o := look(signed); o != (Outcome{Progress: Missing}) {
		t.Fatalf("unknown, nonce free: %+v", o)
	}
	if o := look(""); o != (Outcome{Progress: Unknown}) {
		t.Fatalf("unknown without its bytes: %+v", o)
	}
	nonce, asked = tx.Nonce+1, nil
	if o := look(signed); o.Progress != Dropped || !strings.Contains(o.Error, fmt.Sprintf("nonce %d", tx.Nonce)) {
		t.Fatalf("unknown, nonce used: %+v", o)
	}
	if got := strings.Join(asked, ","); got != "/transaction/"+txID+",/address/"+tx.Sender+"/nonce,/transaction/"+txID {
		t.Fatalf("asked %s, want the hash asked again before Dropped", got)
	}
}
