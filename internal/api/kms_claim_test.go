package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

// A signer's claim returns only transactions free for it and leases them;
// a plain request still returns everything pending (Tatum behaviour).
func TestPendingClaim(t *testing.T) {
	e := newEnv(t)
	a := e.create(e.keyA, "ETH", sigA)
	b := e.create(e.keyA, "ETH", sigB)
	got := func(r resp) []string {
		t.Helper()
		var txs []pending.Tx
		r.want(t, 200, &txs)
		return ids(txs)
	}
	post := func(body string) []string {
		return got(e.do("POST", "/v3/kms/pending/ETH", e.keyA, body))
	}
	list := `"signatureIds":["` + sigA + `","` + sigB + `"]`
	if g := post(`{` + list + `,"signerId":"d1","leaseSeconds":60}`); !reflect.DeepEqual(g, []string{a, b}) {
		t.Fatalf("d1 claim = %v", g)
	}
	if g := post(`{"signerId":"d2",` + list + `}`); len(g) != 0 {
		t.Fatalf("d2 claim (default lease) = %v, want none", g)
	}
	if g := got(e.do("GET", "/v3/kms/pending/ETH?signerId=d2&leaseSeconds=5", e.keyA, nil)); len(g) != 0 {
		t.Fatalf("d2 GET claim = %v, want none", g)
	}
	if g := got(e.do("GET", "/v3/kms/pending/ETH?signatures="+sigA+"&signerId=d1", e.keyA, nil)); !reflect.DeepEqual(g, []string{a}) {
		t.Fatalf("d1 GET renewal = %v", g)
	}
	if g := post(`{` + list + `}`); !reflect.DeepEqual(g, []string{a, b}) {
		t.Fatalf("plain POST = %v, want all pending", g)
	}
	if g := got(e.do("GET", "/v3/kms/pending/ETH", e.keyA, nil)); !reflect.DeepEqual(g, []string{a, b}) {
		t.Fatalf("plain GET = %v, want all pending", g)
	}
	// The slow decoding path (escapes) reads the claim the same way.
	c := e.create(e.keyA, "ETH", sigC)
	if g := post(`{"signatureIds":["` + sigC + `"],"signerId":"d\u0032","leaseSeconds":1}`); !reflect.DeepEqual(g, []string{c}) {
		t.Fatalf("escaped claim = %v", g)
	}
	if g := post(`{"signatureIds":["` + sigC + `"],"signerId":"d1"}`); len(g) != 0 {
		t.Fatalf("d1 took d2's running lease: %v", g)
	}
	time.Sleep(1100 * time.Millisecond)
	if g := post(`{"signatureIds":["` + sigC + `"],"signerId":"d1"}`); !reflect.DeepEqual(g, []string{c}) {
		t.Fatalf("after d2's lease expired d1 got %v", g)
	}
}

// A claim with limit takes the oldest free transactions, so two signers
// split a backlog; GET and POST read limit alike.
func TestPendingClaimLimit(t *testing.T) {
	e := newEnv(t)
	var all []string
	for range 5 {
		all = append(all, e.create(e.keyA, "ETH", sigA))
	}
	got := func(r resp) []string {
		t.Helper()
		var txs []pending.Tx
		r.want(t, 200, &txs)
		return ids(txs)
	}
	if g := got(e.do("POST", "/v3/kms/pending/ETH", e.keyA, `{"signatureIds":["`+sigA+`"],"signerId":"d1","limit":2}`)); !reflect.DeepEqual(g, all[:2]) {
		t.Fatalf("d1 limit 2 = %v, want %v", g, all[:2])
	}
	if g := got(e.do("GET", "/v3/kms/pending/ETH?signerId=d2&limit=2", e.keyA, nil)); !reflect.DeepEqual(g, all[2:4]) {
		t.Fatalf("d2 limit 2 = %v, want %v", g, all[2:4])
	}
	if g := got(e.do("POST", "/v3/kms/pending/ETH", e.keyA, `{"signatureIds":["`+sigA+`"],"signerId":"d3"}`)); !reflect.DeepEqual(g, all[4:]) {
		t.Fatalf("d3 without limit = %v, want %v", g, all[4:])
	}
}

func TestPendingClaimValidation(t *testing.T) {
	e := newEnv(t)
	ok := `"signatureIds":["` + sigA + `"]`
	for _, c := range []struct{ method, path, body, want string }{
		{"POST", "/v3/kms/pending/ETH", `{` + ok + `,"signerId":""}`, signerIDMsg},
		{"POST", "/v3/kms/pending/ETH", `{` + ok + `,"signerId":"a b"}`, signerIDMsg},
		{"POST", "/v3/kms/pending/ETH", `{` + ok + `,"signerId":"` + strings.Repeat("x", 65) + `"}`, signerIDMsg},
		{"POST", "/v3/kms/pending/ETH", `{` + ok + `,"signerId":"d","leaseSeconds":0}`, leaseMsg},
		{"POST", "/v3/kms/pending/ETH", `{` + ok + `,"signerId":"d","leaseSeconds":3601}`, leaseMsg},
		{"POST", "/v3/kms/pending/ETH", `{` + ok + `,"signerId":"d","leaseSeconds":1.5}`, leaseMsg},
		{"POST", "/v3/kms/pending/ETH", `{` + ok + `,"signerId":"d","leaseSeconds":"60"}`, leaseMsg},
		{"POST", "/v3/kms/pending/ETH", `{` + ok + `,"leaseSeconds":60}`, leaseAlone},
		{"POST", "/v3/kms/pending/ETH", `{"signerId":"d"}`, "signatureIds: is required"},
		{"POST", "/v3/kms/pending/ETH", `{` + ok + `,"signerId":7}`, "signerId: must not be a JSON number"},
		{"GET", "/v3/kms/pending/ETH?signerId=", "", signerIDMsg},
		{"GET", "/v3/kms/pending/ETH?signerId=a&signerId=b", "", signerIDMsg},
		{"GET", "/v3/kms/pending/ETH?signerId=a&leaseSeconds=x", "", leaseMsg},
		{"GET", "/v3/kms/pending/ETH?leaseSeconds=5", "", leaseAlone},
		{"POST", "/v3/kms/pending/ETH", `{` + ok + `,"signerId":"d","limit":0}`, limitMsg},
		{"POST", "/v3/kms/pending/ETH", `{` + ok + `,"signerId":"d","limit":100001}`, limitMsg},
		{"POST", "/v3/kms/pending/ETH", `{` + ok + `,"signerId":"d","limit":"5"}`, limitMsg},
		{"POST", "/v3/kms/pending/ETH", `{` + ok + `,"limit":5}`, limitAlone},
		{"GET", "/v3/kms/pending/ETH?signerId=a&limit=-1", "", limitMsg},
		{"GET", "/v3/kms/pending/ETH?limit=5", "", limitAlone},
	} {
		er := e.do(c.method, c.path, e.keyA, c.body).wantError(t, 400, CodeValidation)
		if !strings.Contains(strings.Join(er.Data, "\n"), c.want) {
			t.Errorf("%s %s %s: data %q, want %q", c.method, c.path, c.body, er.Data, c.want)
		}
	}
}

// The claim scanner must agree with encoding/json whenever it accepts a body.
func FuzzPendingBody(f *testing.F) {
	for _, s := range []string{
		`{"signatureIds":["` + sigA + `"],"signerId":"d1","leaseSeconds":60}`,
		`{"leaseSeconds":5,"signerId":"x","signatureIds":[]}`,
		`{"signatureIds":["a"],"signerId":"d","leaseSeconds":01}`,
		`{"signatureIds":["a"],"signerId":"d","leaseSeconds":1e3}`,
		`{"signatureIds":["a"],"limit":2,"signerId":"d","leaseSeconds":30}`,
		`{"signatureIds":["a"],"signerId":"d","limit":2,"limit":3}`,
		`{"signatureIds":["a"],"signerId":"d","signerId":"e"}`,
		`{"signerId":"d"}`,
		`{}`,
		` { "signatureIds" : [ "a" , "b" ] , "signerId" : "z" } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, ok := scanPendingBody(body, "signatureIds")
		if !ok {
			_, _, _ = decodePendingBody(body) // must not panic
			return
		}
		var ref struct {
			SignatureIDs []string `json:"signatureIds"`
			SignerID     *string  `json:"signerId"`
			LeaseSeconds *int64   `json:"leaseSeconds"`
			Limit        *int64   `json:"limit"`
		}
		if err := json.Unmarshal(body, &ref); err != nil {
			t.Fatalf("scanner accepted %q, encoding/json refuses it: %v", body, err)
		}
		if fmt.Sprint(r.ids) != fmt.Sprint(ref.SignatureIDs) || (r.ids == nil) != (ref.SignatureIDs == nil) {
			t.Fatalf("ids %q vs %q for %q", r.ids, ref.SignatureIDs, body)
		}
		if (r.signer == nil) != (ref.SignerID == nil) || r.signer != nil && *r.signer != *ref.SignerID {
			t.Fatalf("signer differs for %q", body)
		}
		if (r.lease == nil) != (ref.LeaseSeconds == nil) || r.lease != nil && *r.lease != *ref.LeaseSeconds {
			t.Fatalf("lease differs for %q", body)
		}
		if (r.limit == nil) != (ref.Limit == nil) || r.limit != nil && *r.limit != *ref.Limit {
			t.Fatalf("limit differs for %q", body)
		}
	})
}
