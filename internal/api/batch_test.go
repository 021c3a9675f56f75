package api

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func TestBatchRecordsErrors(t *testing.T) {
	e := newEnv(t)
	id := e.create(e.keyA, "ETH", sigA)
	foreign := e.create(e.keyB, "ETH", sigA)
	e.do("POST", "/v3/tatum/kms/batch", e.keyA, `{"errors":[{"signatureId":"`+id+`","error":"approval refused"},
		{"signatureId":"`+foreign+`","error":"x"},{"signatureId":"ffffffffffffffffffffffff","error":"y"}]}`).want(t, 204, nil)
	got, err := e.store.Errors(context.Background(), e.idA, id)
	if err != nil || !reflect.DeepEqual(got, []string{"approval refused"}) {
		t.Fatalf("errors %v, %v", got, err)
	}
	if got, _ := e.store.Errors(context.Background(), "", foreign); len(got) != 0 {
		t.Fatalf("foreign report recorded: %v", got)
	}
	long := strings.Repeat("é", 5000)
	e.do("POST", "/v3/tatum/kms/batch", e.keyA, `{"errors":[{"signatureId":"`+id+`","error":"`+long+`"}]}`).want(t, 204, nil)
	got, _ = e.store.Errors(context.Background(), e.idA, id)
	if len(got) != 2 || len(got[1]) > maxErrorMessage {
		t.Fatalf("long message stored with %d bytes", len(got[1]))
	}
}

func TestBatchValidation(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ body, want string }{
		{``, "body: must not be empty"},
		{`{}`, "errors: must be a non-empty array"},
		{`{"errors":[]}`, "errors: must be a non-empty array"},
		{`{"errors":{}}`, "errors: must not be a JSON object"},
		{`{"errors":[{"error":"x"}]}`, "errors[0].signatureId: must be exactly 24"},
		{`{"errors":[{"signatureId":"ffffffffffffffffffffffff"}]}`, "errors[0].error: must be a non-empty string"},
		{`{"errors":[{"signatureId":"ffffffffffffffffffffffff","error":""}]}`, "errors[0].error: must be a non-empty string"},
	} {
		er := e.do("POST", "/v3/tatum/kms/batch", e.keyA, c.body).wantError(t, 400, CodeValidation)
		if !strings.Contains(strings.Join(er.Data, "\n"), c.want) {
			t.Errorf("%s: data %q, want %q", c.body, er.Data, c.want)
		}
	}
}
