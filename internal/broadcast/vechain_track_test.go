package broadcast

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// thorTx answers a Thor node's GET /transactions/{id}/receipt, GET
// /transactions/{id}?pending=true and GET /blocks/best in the shapes of
// Thor's REST API: receipt and pooled are the raw answers ("null" when
// the node has none).
type thorTx struct {
	mu              sync.Mutex
	t               *testing.T
	id              string
	receipt, pooled string
	best            uint32
	asked           []string
}

func (f *thorTx) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method != http.MethodGet:
	case r.URL.Path == "/transactions/"+f.id+"/receipt":
		f.asked = append(f.asked, "receipt")
		fmt.Fprint(w, f.receipt)
		return
	case r.URL.Path == "/transactions/"+f.id && r.URL.RawQuery == "pending=true":
		f.asked = append(f.asked, "pending")
		fmt.Fprint(w, f.pooled)
		return
	case r.URL.Path == "/blocks/best":
		f.asked = append(f.asked, "best")
		fmt.Fprintf(w, `{"number":%d,"id":"0x%08x%s","size":373,"parentID":"0x00","timestamp":1700000000,"gasLimit":40000000}`, f.best, f.best, strings.Repeat("ab", 28))
		return
	}
	f.t.Errorf("request %s %s", r.Method, r.URL)
	http.NotFound(w, r)
}

func TestVeChainLookup(t *testing.T) {
	signed, id := vetSigned(t)
	f := &thorTx{t: t, id: id}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cl, err := DialVeChain(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	lookup := lookupOf(t, cl, id)
	set := func(receipt, pooled string, best uint32) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.receipt, f.pooled, f.best, f.asked = receipt, pooled, best, nil
	}
	receipt := func(reverted bool) string {
		return fmt.Sprintf(`{"type":0,"gasUsed":21000,"gasPayer":"0x7567d83b7b8d80addcb281a71d54fc7b3364ffed","paid":"0x1236efcbcbb340000",`+
			`"reward":"0x576e189f04f60000","reverted":%t,"meta":{"blockID":"0x0004f6cc88bb4626a92907718e82f255b8fa511453a78e8797eb8cea3393b215",`+
			`"blockNumber":325324,"blockTimestamp":1533267900,"txID":%q,"txOrigin":"0x7567d83b7b8d80addcb281a71d54fc7b3364ffed"},"outputs":[]}`, reverted, id)
	}

	set(receipt(false), "null", 325335)
	if o := lookup(signed); o.Progress != Mined || o.BlockNumber != 325324 || o.Confirmations != 12 || o.Failed || o.Fee != "21000000000000000000" {
		t.Errorf("mined: %+v, want block 325324, 12 confirmations, fee 21 VTHO in wei", o)
	}
	set(receipt(true), "null", 325324)
	if o := lookup(signed); o.Progress != Mined || o.Confirmations != 1 || !o.Failed || !strings.Contains(o.Error, "reverted") || o.Fee == "" {
		t.Errorf("reverted: %+v, want failed with its fee", o)
	}
	set("null", fmt.Sprintf(`{"id":%q,"chainTag":39,"blockRef":"0x0000000000000000","expiration":720,"clauses":[],"meta":null}`, id), 10)
	if o := lookup(signed); o.Progress != Pending {
		t.Errorf("pooled: %+v, want pending", o)
	}
	set("null", "null", 0)
	if o := lookup(signed); o.Progress != Missing {
		t.Errorf("unknown within its window: %+v, want missing", o)
	}
	set("null", "null", 1<<32-2)
	if o := lookup(signed); o.Progress != Dropped || !strings.Contains(o.Error, "expired") {
		t.Errorf("unknown past its window: %+v, want dropped", o)
	}
	if want := "receipt pending best receipt"; strings.Join(f.asked, " ") != want {
		t.Errorf("asked %v, want %s (the receipt again before dropped)", f.asked, want)
	}
	if o := lookup(""); o.Progress != Unknown {
		t.Errorf("unknown without signed bytes: %+v", o)
	}
	untrusted(t, cl, id, signed, func(s string) { set(s, "null", 1) }, map[string]string{
		"receipt without its block": `{"gasUsed":21000,"paid":"0x0","reverted":false}`,
		"not JSON":                  `{`,
	})
}
