package approval_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/intent"
)

// An approval service: it checks the daemon's signed request, decides on the
// decoded intent (here: at most 1 ETH per transfer) and answers signed.
func Example() {
	secret := []byte("the CUSTOS_APPROVAL_SECRET value")
	limit := big.NewInt(1e18)
	service := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := approval.ParseRequest(secret, r, time.Now(), time.Minute)
		if err != nil {
			// Not an approval: the daemon asks again later.
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		for _, tr := range req.Intent.Transfers {
			amount, ok := new(big.Int).SetString(tr.Amount, 10)
			if !ok || tr.Asset == "" && amount.Cmp(limit) > 0 {
				_ = approval.Respond(w, secret, req, approval.Refuse, "more than 1 ETH to "+tr.To, time.Now())
				return
			}
		}
		_ = approval.Respond(w, secret, req, approval.Approve, "", time.Now())
	})

	// What the daemon sends and how it reads the answer.
	serialized := `{"to":"0x687422eea2cb73b5d3e242ba5456b782919afc85","value":"2000000000000000000"}`
	req := approval.Request{Version: approval.Version, ID: "65f1c0de0000000000000001", Chain: "ETH", Network: "testnet",
		SignatureIDs: []string{"0b1e0c3a-0000-4000-8000-000000000001"}, Indexes: []uint32{},
		SerializedTransaction: serialized, Digest: approval.Digest(serialized),
		Intent: intent.Intent{Chain: "ETH", Network: "testnet",
			Transfers: []intent.Transfer{{To: "0x687422eea2cb73b5d3e242ba5456b782919afc85", Amount: "2000000000000000000"}}},
		Timestamp: time.Now().Unix()}
	body, _ := json.Marshal(req)
	r := httptest.NewRequest(http.MethodPost, "/approve/"+req.ID, bytes.NewReader(body))
	ts := strconv.FormatInt(req.Timestamp, 10)
	r.Header.Set(approval.HeaderTimestamp, ts)
	r.Header.Set(approval.HeaderSignature, approval.RequestMAC(secret, r.Method, r.URL.RequestURI(), ts, body))
	w := httptest.NewRecorder()
	service.ServeHTTP(w, r)

	resp, err := approval.ReadResponse(secret, w.Result(), req, time.Now(), approval.DefaultMaxAge)
	fmt.Println(resp.Decision, resp.Reason, err)
	// Output: refuse more than 1 ETH to 0x687422eea2cb73b5d3e242ba5456b782919afc85 <nil>
}
