package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

// renewed posts a renewal and returns the ids answered, checking that the
// answer is {"renewed":[…]} and never null.
func (e *env) renewed(t *testing.T, key string, body any) []string {
	t.Helper()
	r := e.do("POST", "/v3/kms/lease", key, body)
	var out map[string]json.RawMessage
	r.want(t, 200, &out)
	var got []string
	if len(out) != 1 || json.Unmarshal(out["renewed"], &got) != nil || got == nil {
		t.Fatalf("answer %s, want {\"renewed\":[…]}", r.body)
	}
	return got
}

// A renewal extends the signer's own leases on exactly the ids given and
// answers them in the request's order, each once; every other id is left out
// without an error.
func TestRenewLeases(t *testing.T) {
	e := newEnv(t)
	a := e.create(e.keyA, "ETH", sigA)
	b := e.create(e.keyA, "ETH", sigB)
	c := e.create(e.keyA, "ETH", sigC)
	foreign := e.create(e.keyB, "ETH", sigA)
	claim := func(key, signer string, lease int) []string {
		t.Helper()
		var txs []pending.Tx
		e.do("POST", "/v3/kms/pending/ETH", key, fmt.Sprintf(`{"signatureIds":[%q,%q,%q],"signerId":%q,"leaseSeconds":%d}`,
			sigA, sigB, sigC, signer, lease)).want(t, 200, &txs)
		return ids(txs)
	}
	if got := claim(e.keyA, "d1", 1); !reflect.DeepEqual(got, []string{a, b, c}) {
		t.Fatalf("d1's claim = %v", got)
	}
	if got := claim(e.keyB, "d1", 60); !reflect.DeepEqual(got, []string{foreign}) {
		t.Fatalf("tenant B's claim = %v", got)
	}
	before := e.credits(e.idA)
	unknown := pending.NewID()
	got := e.renewed(t, e.keyA, map[string]any{"signerId": "d1", "leaseSeconds": 60, "ids": []string{b, unknown, a, foreign, b}})
	if want := []string{b, a}; !reflect.DeepEqual(got, want) {
		t.Fatalf("renewed %v, want %v", got, want)
	}
	if c := e.credits(e.idA); c != before+1 {
		t.Fatalf("credits %d after a renewal, want %d", c, before+1)
	}
	// Another signer's renewal renews nothing, and the answer is still an array.
	if got := e.renewed(t, e.keyA, `{"signerId":"d2","ids":["`+a+`"]}`); len(got) != 0 {
		t.Fatalf("d2 renewed d1's lease: %v", got)
	}
	// Once the 1 s leases ran out only c, which was not renewed, is free.
	time.Sleep(1100 * time.Millisecond)
	if got := claim(e.keyA, "d2", 60); !reflect.DeepEqual(got, []string{c}) {
		t.Fatalf("d2's claim after the first leases ran out = %v, want %v", got, []string{c})
	}
	// d1 renews its still held a and b (default lease), not c, now d2's.
	if got := e.renewed(t, e.keyA, `{"ids":["`+c+`","`+a+`","`+b+`"],"signerId":"d1"}`); !reflect.DeepEqual(got, []string{a, b}) {
		t.Fatalf("d1's second renewal = %v, want %v", got, []string{a, b})
	}
}

// A renewal of MaxRenewIDs ids fits the body cap and costs 1 credit per 500.
func TestRenewLeasesMostIDs(t *testing.T) {
	e := newEnv(t)
	a := e.create(e.keyA, "ETH", sigA)
	e.do("POST", "/v3/kms/pending/ETH", e.keyA, `{"signatureIds":["`+sigA+`"],"signerId":"d1"}`).want(t, 200, nil)
	list := make([]string, MaxRenewIDs)
	for i := range list {
		list[i] = fmt.Sprintf("%024x", i)
	}
	list[MaxRenewIDs/2] = a
	body, _ := json.Marshal(map[string]any{"signerId": "d1", "ids": list})
	if len(body) > MaxLeaseBody {
		t.Fatalf("%d ids take %d bytes, over the %d-byte cap", MaxRenewIDs, len(body), MaxLeaseBody)
	}
	before := e.credits(e.idA)
	if got := e.renewed(t, e.keyA, body); !reflect.DeepEqual(got, []string{a}) {
		t.Fatalf("renewed %v, want %v", got, []string{a})
	}
	if c := e.credits(e.idA); c != before+MaxRenewIDs/idsPerCredit {
		t.Fatalf("credits %d, want %d", c-before, MaxRenewIDs/idsPerCredit)
	}
}

// Bad input is a 400 listing every problem, never a 500, and is not charged.
func TestRenewLeasesValidation(t *testing.T) {
	e := newEnv(t)
	const id = "aaaaaaaaaaaaaaaaaaaaaaaa"
	tooMany, _ := json.Marshal(map[string]any{"signerId": "d1", "ids": slices.Repeat([]string{id}, MaxRenewIDs+1)})
	badIDs := make([]string, 12)
	for i := range badIDs {
		badIDs[i] = fmt.Sprintf("bad-%d", i)
	}
	twelve, _ := json.Marshal(map[string]any{"signerId": "d1", "ids": badIDs})
	for _, c := range []struct {
		name, body string
		want       []string
	}{
		{"empty body", ` `, []string{"body: must not be empty"}},
		{"empty object", `{}`, []string{signerIDMsg, renewIDsMsg}},
		{"null", `null`, []string{"body: must be a JSON object"}},
		{"array", `[]`, []string{"body: must be a JSON object"}},
		{"malformed", `{"signerId":"d1",`, []string{"body: truncated JSON"}},
		{"trailing data", `{"signerId":"d1","ids":["` + id + `"]} {}`, []string{"body: unexpected data after the JSON object"}},
		{"every field wrong", `{"signerId":"no spaces","leaseSeconds":0,"ids":["short"]}`,
			[]string{signerIDMsg, leaseMsg, `ids[0]: ` + renewIDMsg + `, got "short"`}},
		{"wrong types", `{"signerId":7,"leaseSeconds":"60","ids":[1]}`, []string{signerIDMsg, leaseMsg, renewIDsMsg}},
		{"fractional lease", `{"signerId":"d1","leaseSeconds":1.5,"ids":["` + id + `"]}`, []string{leaseMsg}},
		{"lease too long", `{"signerId":"d1","leaseSeconds":3601,"ids":["` + id + `"]}`, []string{leaseMsg}},
		{"signer too long", `{"signerId":"` + strings.Repeat("s", 65) + `","ids":["` + id + `"]}`, []string{signerIDMsg}},
		{"no ids", `{"signerId":"d1","ids":[]}`, []string{renewIDsMsg}},
		{"null ids", `{"signerId":"d1","ids":null}`, []string{renewIDsMsg}},
		{"too many ids", string(tooMany), []string{renewIDsMsg}},
		{"unknown member", `{"signerId":"d1","ids":["` + id + `"],"limit":5,"x":{}}`,
			[]string{`"limit": is not a member of a renewal (signerId, leaseSeconds, ids)`, `"x": is not a member of a renewal (signerId, leaseSeconds, ids)`}},
		{"case variant", `{"SignerId":"d1","ids":["` + id + `"]}`,
			[]string{`"SignerId": is not a member of a renewal (signerId, leaseSeconds, ids)`, signerIDMsg}},
	} {
		er := e.do("POST", "/v3/kms/lease", e.keyA, c.body).wantError(t, 400, CodeValidation)
		if !reflect.DeepEqual(er.Data, c.want) {
			t.Errorf("%s: data %q, want %q", c.name, er.Data, c.want)
		}
	}
	// A key given twice, or in two letter cases, is refused: encoding/json
	// would read either as the same member.
	for _, body := range []string{
		`{"signerId":"d1","signerId":"d2","ids":["` + id + `"]}`,
		`{"signerId":"d1","SIGNERID":"d2","ids":["` + id + `"]}`,
	} {
		er := e.do("POST", "/v3/kms/lease", e.keyA, body).wantError(t, 400, CodeValidation)
		if len(er.Data) != 1 || !strings.Contains(er.Data[0], "duplicate") {
			t.Errorf("%s: data %q, want the duplicate key named", body, er.Data)
		}
	}
	// A long list of bad ids names the first ten.
	er := e.do("POST", "/v3/kms/lease", e.keyA, twelve).wantError(t, 400, CodeValidation)
	if len(er.Data) != 11 || er.Data[9] != `ids[9]: `+renewIDMsg+`, got "bad-9"` || er.Data[10] != "ids: further invalid entries not listed" {
		t.Errorf("twelve bad ids: data %q", er.Data)
	}
	if c := e.credits(e.idA); c != 0 {
		t.Errorf("refused renewals charged %d credits", c)
	}
}
