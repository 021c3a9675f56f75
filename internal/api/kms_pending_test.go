package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/pending"
)

func ids(txs []pending.Tx) []string {
	out := []string{}
	for _, t := range txs {
		out = append(out, t.ID)
	}
	return out
}

func TestPendingGetAndPost(t *testing.T) {
	e := newEnv(t)
	a := e.create(e.keyA, "ETH", sigA)
	b := e.create(e.keyA, "ETH", sigB)
	e.create(e.keyA, "BTC", sigA)
	e.create(e.keyB, "ETH", sigA) // another tenant's
	done := e.create(e.keyA, "ETH", sigC)
	e.do("PUT", "/v3/kms/"+done+"/0xdone0000000", e.keyA, nil).want(t, 204, nil)

	check := func(r resp, want ...string) {
		t.Helper()
		var txs []pending.Tx
		r.want(t, 200, &txs)
		if got := ids(txs); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pending %v, want %v", got, want)
		}
		if len(want) == 0 && strings.TrimSpace(string(r.body)) != "[]" {
			t.Fatalf("empty answer %q, want []", r.body)
		}
	}
	check(e.do("GET", "/v3/kms/pending/ETH", e.keyA, nil), a, b)
	check(e.do("GET", "/v3/kms/pending/ETH?signatures="+sigB, e.keyA, nil), b)
	check(e.do("GET", "/v3/kms/pending/ETH?signatures="+sigB+","+sigA, e.keyA, nil), a, b)
	check(e.do("GET", "/v3/kms/pending/ETH?signatures="+sigC, e.keyA, nil))
	check(e.do("GET", "/v3/kms/pending/SOL", e.keyA, nil))
	check(e.do("POST", "/v3/kms/pending/ETH", e.keyA, `{"signatureIds":["`+sigA+`"]}`), a)
	check(e.do("POST", "/v3/kms/pending/ETH", e.keyA, `{ "signatureIds" : [ "`+sigB+`" , "`+sigA+`" ] }`), a, b)
	check(e.do("POST", "/v3/kms/pending/ETH", e.keyA, `{"signatureIds":[]}`))
	check(e.do("POST", "/v3/kms/pending/ETH", e.keyA, `{"other":1,"signatureIds":["`+sigB+`"]}`), b)
	check(e.do("POST", "/v3/kms/pending/ETH", e.keyB, `{"signatureIds":["`+sigB+`"]}`))
}

func TestPendingValidation(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ method, path, body, want string }{
		{"GET", "/v3/kms/pending/NOPE", "", "chain: must be one of"},
		{"GET", "/v3/kms/pending/eth", "", "chain: must be one of"},
		{"GET", "/v3/kms/pending/ETH?signatures=", "", "signatures: must list at least one UUID"},
		{"GET", "/v3/kms/pending/ETH?signatures=" + sigA + ",x", "", `signatures[1]: must be a UUID, got "x"`},
		{"POST", "/v3/kms/pending/NOPE", `{"signatureIds":[]}`, "chain: must be one of"},
		{"POST", "/v3/kms/pending/ETH", ``, "body: must not be empty"},
		{"POST", "/v3/kms/pending/ETH", `{}`, "signatureIds: is required"},
		{"POST", "/v3/kms/pending/ETH", `{"signatureIds":null}`, "signatureIds: is required"},
		{"POST", "/v3/kms/pending/ETH", `{"signatureIds":"` + sigA + `"}`, "signatureIds: must not be a JSON string"},
		{"POST", "/v3/kms/pending/ETH", `{"signatureIds":[1]}`, "signatureIds: must not be a JSON number"},
		{"POST", "/v3/kms/pending/ETH", `{"signatureIds":["` + sigA + `",]}`, "body: malformed JSON"},
		{"POST", "/v3/kms/pending/ETH", `{"signatureIds":["nope"]}`, `signatureIds[0]: must be a UUID`},
	} {
		er := e.do(c.method, c.path, e.keyA, c.body).wantError(t, 400, CodeValidation)
		if !strings.Contains(strings.Join(er.Data, "\n"), c.want) {
			t.Errorf("%s %s %s: data %q, want %q", c.method, c.path, c.body, er.Data, c.want)
		}
	}
	// A huge bad list is reported briefly.
	bad := `{"signatureIds":[` + strings.Repeat(`"x",`, 5000) + `"x"]}`
	if er := e.do("POST", "/v3/kms/pending/ETH", e.keyA, bad).wantError(t, 400, CodeValidation); len(er.Data) != 11 {
		t.Fatalf("%d data lines", len(er.Data))
	}
}

func TestPendingCredits(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/v3/kms/pending/ETH", e.keyA, nil).want(t, 200, nil)
	if c := e.credits(e.idA); c != 1 {
		t.Fatalf("credits after GET = %d, want 1", c)
	}
	many := make([]string, 1001) // 3 credits: 1 per 500 IDs, rounded up
	for i := range many {
		many[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	e.do("POST", "/v3/kms/pending/ETH", e.keyA, map[string]any{"signatureIds": many}).want(t, 200, nil)
	e.do("POST", "/v3/kms/pending/ETH", e.keyA, `{"signatureIds":[]}`).want(t, 200, nil)
	if c := e.credits(e.idA); c != 1+3+1 {
		t.Fatalf("credits = %d, want 5", c)
	}
	// Refused requests are not charged.
	e.do("GET", "/v3/kms/pending/NOPE", e.keyA, nil).wantError(t, 400, CodeValidation)
	if c := e.credits(e.idA); c != 5 {
		t.Fatalf("credits after a 400 = %d, want 5", c)
	}
}

// A signer may ask for a million signature IDs in one request (Tatum stops
// at 25,000); it must fit under the default body cap and be answered.
func TestPendingMillionIDs(t *testing.T) {
	if testing.Short() {
		t.Skip("large request")
	}
	e := newEnv(t)
	a := e.create(e.keyA, "ETH", sigA)
	var b strings.Builder
	b.WriteString(`{"signatureIds":[`)
	for i := range 1_000_000 {
		fmt.Fprintf(&b, `"%08x-0000-4000-8000-000000000000",`, i)
	}
	b.WriteString(`"` + sigA + `"]}`)
	if b.Len() > DefaultMaxBody {
		t.Fatalf("a million IDs take %d bytes, over the cap %d", b.Len(), DefaultMaxBody)
	}
	var txs []pending.Tx
	e.do("POST", "/v3/kms/pending/ETH", e.keyA, b.String()).want(t, 200, &txs)
	if len(txs) != 1 || txs[0].ID != a {
		t.Fatalf("got %v", ids(txs))
	}
	if c := e.credits(e.idA); c != 2001 {
		t.Fatalf("credits %d, want 2001", c)
	}
}

// Pending answers name the calling key, whose transactions they are, so
// that the signer can tell its approval service who queued them.
func TestPendingAnswersNameTheKey(t *testing.T) {
	e := newEnv(t)
	e.create(e.keyA, "ETH", sigA)
	for _, r := range []resp{
		e.do("GET", "/v3/kms/pending/ETH", e.keyA, nil),
		e.do("POST", "/v3/kms/pending/ETH", e.keyA, `{"signatureIds":["`+sigA+`"]}`),
	} {
		if got := r.header.Get(approval.HeaderAPIKeyID); r.status != 200 || got != e.idA {
			t.Fatalf("HTTP %d, %s %q, want %q", r.status, approval.HeaderAPIKeyID, got, e.idA)
		}
	}
}

// A list long enough to be checked on several goroutines still has each bad
// entry found and named by its index, wherever it is.
func TestCheckIDsLongList(t *testing.T) {
	ids := make([]string, 1<<16+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
	}
	if err := checkIDs("signatureIds", ids); err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{0, len(ids) / 2, len(ids) - 1} {
		good := ids[at]
		ids[at] = "not-a-uuid"
		err := checkIDs("signatureIds", ids)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("signatureIds[%d]", at)) {
			t.Fatalf("bad entry at %d: %v", at, err)
		}
		ids[at] = good
	}
}

// Work done is metered even when the request's context has ended by the
// time it is charged (the client went away, or the server is stopping).
func TestCreditsOutliveTheRequest(t *testing.T) {
	e := newEnv(t)
	keys, err := e.store.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var k pending.APIKey
	for _, x := range keys {
		if x.ID == e.idA {
			k = x
		}
	}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), keyCtx{}, k))
	cancel()
	e.srv.charge(httptest.NewRequest("GET", "/v3/kms/pending/ETH", nil).WithContext(ctx), 3)
	if c := e.credits(e.idA); c != 3 {
		t.Fatalf("credits = %d, want 3", c)
	}
}
