package approval

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/strictjson"
)

// checkedBatch is how ParseBatchRequest read a body before it checked keys
// in one quick pass: strictjson.Check, then encoding/json into a
// BatchRequest, then each request's checks. The body is taken as signed.
func checkedBatch(body []byte, timestamp string) ([]Request, error) {
	if err := strictjson.Check(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	var b BatchRequest
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if b.Version != Version || len(b.Requests) == 0 || len(b.Requests) > MaxBatch {
		return nil, ErrBadRequest
	}
	seen := map[string]bool{}
	for _, req := range b.Requests {
		if err := checkRequest(req, timestamp); err != nil {
			return nil, err
		}
		if seen[req.ID] {
			return nil, ErrBadRequest
		}
		seen[req.ID] = true
	}
	return b.Requests, nil
}

// strictSeeds are documents on both sides of the key rules, at the top
// level and deeper, plain and not.
var strictSeeds = []string{
	`{"version":2,"requests":[]}`,
	`{"version":2,"Version":2,"requests":[]}`,
	`{"version":2,"requests":[{"id":"a","ID":"b"}]}`,
	`{"version":2,"requests":[{"intent":{"chain":"ETH","chain":"BTC"}}]}`,
	`{"version":2,"requests":[{"intent":{"chaın":"ETH","CHAIN":"BTC"}}]}`,
	`{"version":2,"requests":[{"intent":{"\u0063hain":"ETH","chain":"BTC"}}]}`,
	`{"ſ":1,"s":2}`, `{"k":1,"K":2}`, `{"Kelvin":1,"kelvin":2}`,
	`null`, `[1,2]`, `"x"`, `2`, ` {"a" : [ {"b":1} , {"B":2} ] } `, `{"a":1}{"a":2}`, `{"a":01}`,
	`{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":1,}`, `{"a":[1,]}`, `{"a":-}`, `{"a":1e}`, `{}`,
}

// strict accepts exactly what strictjson.Check accepts, and refuses with
// its error.
func FuzzStrictIsCheck(f *testing.F) {
	for _, s := range strictSeeds {
		f.Add([]byte(s))
	}
	f.Add(batchBody(f, batchOf(3)))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := strict(b), strictjson.Check(b)
		if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
			t.Fatalf("strict(%q) = %v, Check = %v", b, got, want)
		}
	})
}

// ParseBatchRequest takes what the reading before it took, and gives the
// same requests.
func FuzzParseBatchRequestIsChecked(f *testing.F) {
	for _, s := range strictSeeds {
		f.Add([]byte(s))
	}
	f.Add(batchBody(f, batchOf(3)))
	f.Add([]byte(`{"version":2,"requests":[` + string(must(json.Marshal(batchOf(1)[0]))) + `],"Extra":{"x":1,"X":2}}`))
	f.Add([]byte(`{"VERSION":2,"Requests":[` + string(must(json.Marshal(batchOf(1)[0]))) + `]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseBatchRequest(secret, rawRequest("/approve/batch", body), now, time.Minute)
		want, werr := checkedBatch(body, strconv.FormatInt(now.Unix(), 10))
		if (err == nil) != (werr == nil) || err != nil && !errors.Is(err, ErrBadRequest) {
			t.Fatalf("%q: %v, before %v", body, err, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %+v, before %+v", body, got, want)
		}
	})
}
