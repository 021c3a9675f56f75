package broadcast

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestTronLookup follows a signed transaction through java-tron's documented
// answers: gettransactioninfobyid ({} before a block; id, fee, blockNumber,
// receipt.result, result and resMessage after) and getnowblock for the
// head's height and time.
func TestTronLookup(t *testing.T) {
	signed, txID := signedVector(t, "TRON")
	var tx struct {
		RawData struct {
			Expiration int64 `json:"expiration"`
		} `json:"raw_data"`
	}
	if json.Unmarshal([]byte(signed), &tx) != nil || tx.RawData.Expiration == 0 {
		t.Fatal("the vector has no raw_data.expiration")
	}
	var (
		mu    sync.Mutex
		info  = `{}`
		now   = tx.RawData.Expiration - 1
		asked []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		asked = append(asked, r.URL.Path)
		switch r.URL.Path {
		case "/wallet/gettransactioninfobyid":
			if string(body) != `{"value":"`+txID+`"}` {
				t.Errorf("gettransactioninfobyid body %s", body)
			}
			fmt.Fprint(w, info)
		case "/wallet/getnowblock":
			fmt.Fprintf(w, `{"blockID":"%s","block_header":{"raw_data":{"number":60000019,"timestamp":%d,"witness_address":"41aa"}}}`, strings.Repeat("0a", 32), now)
		default:
			t.Errorf("POST %s", r.URL.Path)
		}
	}))
	t.Cleanup(srv.Close)
	cl, err := DialTron(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	look := lookupOf(t, cl, txID)

	// A TRX transfer: the receipt has no result, only bandwidth.
	info = `{"id":"` + txID + `","fee":1100000,"blockNumber":60000001,"blockTimeStamp":1700000000000,"contractResult":[""],"receipt":{"net_fee":1100000}}`
	if o := look(signed); o != (Outcome{Progress: Mined, BlockNumber: 60000001, Confirmations: 19, Fee: "1100000"}) {
		t.Fatalf("transfer: %+v", o)
	}
	info = `{"id":"` + txID + `","blockNumber":60000019,"contractResult":["00"],"receipt":{"energy_usage_total":13000,"net_usage":345,"result":"SUCCESS"}}`
	if o := look(signed); o != (Outcome{Progress: Mined, BlockNumber: 60000019, Confirmations: 1, Fee: "0"}) {
		t.Fatalf("contract call, paid with staked resources: %+v", o)
	}
	info = `{"id":"` + txID + `","fee":2757900,"blockNumber":60000010,"result":"FAILED","resMessage":"` + hex.EncodeToString([]byte("REVERT opcode executed")) + `","receipt":{"energy_fee":2757900,"energy_usage_total":6565,"result":"REVERT"}}`
	if o := look(signed); o != (Outcome{Progress: Mined, BlockNumber: 60000010, Confirmations: 10, Fee: "2757900", Failed: true, Error: "REVERT: REVERT opcode executed"}) {
		t.Fatalf("reverted: %+v", o)
	}
	untrusted(t, cl, txID, signed, func(a string) { info = a }, map[string]string{
		"another id":       `{"id":"` + strings.Repeat("11", 32) + `","blockNumber":60000010}`,
		"no blockNumber":   `{"id":"` + txID + `","fee":1}`,
		"a negative fee":   `{"id":"` + txID + `","fee":-5,"blockNumber":60000010}`,
		"a string number":  `{"id":"` + txID + `","blockNumber":"60000010"}`,
		"not a JSON value": `{"id":`,
	})

	info = `{}`
	if o := look(signed); o != (Outcome{Progress: Unknown}) {
		t.Fatalf("not in a block, not expired: %+v", o)
	}
	if o := look(""); o != (Outcome{Progress: Unknown}) {
		t.Fatalf("not in a block, without its bytes: %+v", o)
	}
	now, asked = tx.RawData.Expiration, nil
	if o := look(signed); o.Progress != Expired || !strings.Contains(o.Error, "expired") {
		t.Fatalf("not in a block, expired: %+v", o)
	}
	if got := strings.Join(asked, ","); got != "/wallet/gettransactioninfobyid,/wallet/getnowblock,/wallet/gettransactioninfobyid" {
		t.Fatalf("asked %s, want the info asked again before Expired", got)
	}
}
