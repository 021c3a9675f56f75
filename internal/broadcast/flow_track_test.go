package broadcast

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// flowAccess answers an Access node's GET /v1/transaction_results/{id}, GET
// /v1/blocks/{id} and GET /v1/blocks?height=sealed in the shapes of Flow's
// REST API: result is the raw answer for the asked id ("" is a 404), the
// reference block of flowSigned is at height 1000, the result's block at
// 1005, the sealed head at sealed.
type flowAccess struct {
	mu     sync.Mutex
	t      *testing.T
	id     string
	result string
	sealed uint64
	asked  []string
}

const flowRefBlock, flowTxBlock = "7bc42fe85d32ca513769a74f97f7e1a7bad6c9407f0d934c2aa645ef9cf613c7", "b10c" + "000000000000000000000000000000000000000000000000000000000000"

func (f *flowAccess) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	block := func(h uint64) {
		fmt.Fprintf(w, `[{"header":{"id":"00","parent_id":"00","height":"%d","timestamp":"2024-01-01T00:00:00Z","parent_voter_signature":"AA=="},"_expandable":{"payload":"/v1/blocks/00/payload"}}]`, h)
	}
	switch {
	case r.Method != http.MethodGet:
	case r.URL.Path == "/v1/transaction_results/"+f.id:
		f.asked = append(f.asked, "result")
		if f.result == "" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"code":404,"message":"transaction not found"}`)
			return
		}
		fmt.Fprint(w, f.result)
		return
	case r.URL.Path == "/v1/blocks/"+flowRefBlock:
		f.asked = append(f.asked, "reference")
		block(1000)
		return
	case r.URL.Path == "/v1/blocks/"+flowTxBlock:
		block(1005)
		return
	case r.URL.Path == "/v1/blocks" && r.URL.RawQuery == "height=sealed":
		f.asked = append(f.asked, "sealed")
		block(f.sealed)
		return
	}
	f.t.Errorf("request %s %s", r.Method, r.URL)
	http.NotFound(w, r)
}

func TestFlowLookup(t *testing.T) {
	s := flowSigned(t)
	f := &flowAccess{t: t, id: s.TxID}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cl, err := DialFlow(srv.URL + "/v1")
	if err != nil {
		t.Fatal(err)
	}
	lookup := lookupOf(t, cl, s.TxID)
	set := func(result string, sealed uint64) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.result, f.sealed, f.asked = result, sealed, nil
	}
	result := func(status string, code int, execution, msg string) string {
		return fmt.Sprintf(`{"block_id":%q,"collection_id":"c0","execution":%q,"status":%q,"status_code":%d,"error_message":%q,`+
			`"computation_used":"38","events":[],"_links":{"_self":"/v1/transaction_results/%s"}}`, flowTxBlock, execution, status, code, msg, s.TxID)
	}

	set(result("Executed", 0, "Success", ""), 1005)
	if o := lookup(s.TxData); o.Progress != Mined || o.BlockNumber != 1005 || o.Confirmations != 0 || o.Failed {
		t.Errorf("executed: %+v, want mined in 1005, not yet final", o)
	}
	set(result("Sealed", 0, "Success", ""), 1006)
	if o := lookup(s.TxData); o.Progress != Mined || o.BlockNumber != 1005 || o.Confirmations != 1 || o.Failed {
		t.Errorf("sealed: %+v, want final in 1005", o)
	}
	set(result("Sealed", 1, "Failure", "[Error Code: 1101] cadence runtime error"), 1006)
	if o := lookup(s.TxData); o.Progress != Mined || o.Confirmations != 1 || !o.Failed || !strings.Contains(o.Error, "Error Code: 1101") {
		t.Errorf("failed: %+v, want failed with the node's error", o)
	}
	set(result("Pending", 0, "Pending", ""), 1001)
	if o := lookup(s.TxData); o.Progress != Pending {
		t.Errorf("pending: %+v", o)
	}
	set(result("Expired", 0, "Pending", ""), 1700)
	if o := lookup(s.TxData); o.Progress != Dropped || !strings.Contains(o.Error, "expired") {
		t.Errorf("expired: %+v, want dropped", o)
	}
	set("", 1599)
	if o := lookup(s.TxData); o.Progress != Missing {
		t.Errorf("unknown within 600 blocks of its reference: %+v, want missing", o)
	}
	set("", 1600)
	if o := lookup(s.TxData); o.Progress != Dropped || !strings.Contains(o.Error, "600 blocks") {
		t.Errorf("unknown 600 blocks past its reference: %+v, want dropped", o)
	}
	if want := "result reference sealed result"; strings.Join(f.asked, " ") != want {
		t.Errorf("asked %v, want %s (the result again before dropped)", f.asked, want)
	}
	if o := lookup(""); o.Progress != Unknown {
		t.Errorf("unknown without signed bytes: %+v", o)
	}
	untrusted(t, cl, s.TxID, s.TxData, func(r string) { set(r, 1) }, map[string]string{
		"unknown status": result("Vanished", 0, "Success", ""),
		"not JSON":       `{`,
	})
}
