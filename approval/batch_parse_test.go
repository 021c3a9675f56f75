package approval

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/custoskms/custos/internal/strictjson"
)

// parseBatchReference is what ReadBatchResponse did before
// parseBatchResponse: strictjson.Check, then json.Unmarshal.
func parseBatchReference(b []byte) (BatchResponse, error) {
	var out BatchResponse
	if err := strictjson.Check(b); err != nil {
		return out, err
	}
	err := json.Unmarshal(b, &out)
	return out, err
}

var batchParseCases = []string{
	`{"responses":[{"id":"a","digest":"d","decision":"approve","timestamp":1,"signature":"s"}]}`,
	`{"responses":[{"id":"a","digest":"d","decision":"approve","reason":"x","timestamp":1,"signature":"s"},{"id":"b"}]}`,
	`{"Responses":[{"ID":"a","Digest":"d"}]}`,
	`{"RESPONSES":[{"id":"a"}],"other":{"x":[1,2,{"y":null}]}}`,
	"{\"re\u017fponses\":[{\"id\":\"a\"}]}", // long s folds to s
	`{"responses":[{"id":"a","ID":"b"}]}`,
	`{"responses":[{"id":"a","id":"b"}]}`,
	`{"responses":[],"Responses":[]}`,
	`{"responses":[{"id":"a","timestamp":"1"}]}`,
	`{"responses":[{"id":"a","timestamp":1.5}]}`,
	`{"responses":{"id":"a"}}`,
	`{"responses":null}`,
	`{"responses":[{"id":"a"}]} x`,
	`{"responses":[{"id":"\u0061\"\\"}]}`,
	`{"respon\u0073es":[{"id":"a"}]}`,
	`{}`, `null`, `[]`, `[{"id":"a"}]`, `"s"`, `1`, `true`, ``, `{`, `{"responses":[`, "\xff",
	` { "responses" : [ { "id" : "a" } ] } `,
}

// checkBatchParse fails t unless parseBatchResponse accepts exactly what
// the reference accepts, with the same result.
func checkBatchParse(t *testing.T, b []byte) {
	t.Helper()
	got, gerr := parseBatchResponse(b)
	want, werr := parseBatchReference(b)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("%q: error %v, want %v", b, gerr, werr)
	}
	if gerr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: %+v, want %+v", b, got, want)
	}
}

func TestParseBatchResponseIsCheckAndUnmarshal(t *testing.T) {
	for _, c := range batchParseCases {
		checkBatchParse(t, []byte(c))
	}
}

func FuzzParseBatchResponse(f *testing.F) {
	for _, c := range batchParseCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkBatchParse(t, b) })
}
