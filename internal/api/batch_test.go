package api

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain/evm"
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
		{`{"errors":[{"signatureId":"ffffffffffffffffffffffff","error":"x","refused":"yes"}]}`, "refused"},
	} {
		er := e.do("POST", "/v3/tatum/kms/batch", e.keyA, c.body).wantError(t, 400, CodeValidation)
		if !strings.Contains(strings.Join(er.Data, "\n"), c.want) {
			t.Errorf("%s: data %q, want %q", c.body, er.Data, c.want)
		}
	}
}

// A refusal is stored naming who refused: as the signer reports it when it
// says ("refused by the signer: policy: …", "refused by the approval
// service: …"), as the approval service's when it does not (earlier signers
// refused only when their approval service did).
func TestBatchRefusalNamesWhoRefused(t *testing.T) {
	e, _, _ := fillEnv(t)
	for range 3 {
		e.queue(e.keyTest, `{"to":"`+fillRecipient+`","value":"1","from":"`+fillFrom+`"}`).want(t, 200, nil)
	}
	byNonce := pendingByNonce(t, e)
	tenant := keyIDOf(t, e, e.keyTest)
	for i, c := range []struct{ sent, stored string }{
		{`refused by the signer: policy: rule \"eth\": maxAmount: 2 of the native coin is above 1`,
			`refused by the signer: policy: rule "eth": maxAmount: 2 of the native coin is above 1`},
		{"refused by the approval service: over the limit", "refused by the approval service: over the limit"},
		{"HTTP 403: over the limit", "refused by the approval service: HTTP 403: over the limit"},
	} {
		id := byNonce[uint64(i)].ID
		e.do("POST", "/v3/tatum/kms/batch", e.keyTest, `{"errors":[{"signatureId":"`+id+`","error":"`+c.sent+`","refused":true}]}`).want(t, 204, nil)
		if got, err := e.store.Errors(t.Context(), tenant, id); err != nil || !reflect.DeepEqual(got, []string{c.stored}) {
			t.Fatalf("%s: errors %q, %v; want %q", c.sent, got, err, c.stored)
		}
		var tx struct{ Error string }
		if e.do("GET", "/v3/kms/"+id, e.keyTest, nil).want(t, 200, &tx); tx.Error != c.stored {
			t.Fatalf("GET shows %q, want %q", tx.Error, c.stored)
		}
	}
}

// A report marked refused (the approval service said no) ends the
// transaction with the service's reason and frees its nonce: a refused
// transaction in the middle of a sender's queue is replaced by a filler, as
// a deleted one is. A plain report leaves its transaction pending.
func TestBatchRefusedFails(t *testing.T) {
	e, _, _ := fillEnv(t)
	for range 3 {
		e.queue(e.keyTest, `{"to":"`+fillRecipient+`","value":"1","from":"`+fillFrom+`"}`).want(t, 200, nil)
	}
	byNonce := pendingByNonce(t, e)
	plain, refused := byNonce[0].ID, byNonce[1].ID
	e.do("POST", "/v3/tatum/kms/batch", e.keyTest, `{"errors":[{"signatureId":"`+plain+`","error":"signer busy"},
		{"signatureId":"`+refused+`","error":"HTTP 403: over the limit","refused":true},
		{"signatureId":"ffffffffffffffffffffffff","error":"y","refused":true}]}`).want(t, 204, nil)
	tenant := keyIDOf(t, e, e.keyTest)
	if got, err := e.store.Errors(t.Context(), tenant, refused); err != nil ||
		!reflect.DeepEqual(got, []string{"refused by the approval service: HTTP 403: over the limit"}) {
		t.Fatalf("refused errors %q, %v", got, err)
	}
	if got, err := e.store.Errors(t.Context(), tenant, plain); err != nil || !reflect.DeepEqual(got, []string{"signer busy"}) {
		t.Fatalf("plain errors %q, %v", got, err)
	}
	after := pendingByNonce(t, e)
	if len(after) != 3 || after[0].ID != plain || after[2].ID != byNonce[2].ID || after[1].ID == refused {
		t.Fatalf("after the refusal: %v", after)
	}
	f, err := evm.ETH.ParseTx(after[1].SerializedTransaction)
	if err != nil || f.To == nil || strings.ToLower(f.To.Hex()) != fillFrom || f.Value.Sign() != 0 {
		t.Fatalf("nonce 1 is not a zero-value self-transfer: %+v, %v", after[1], err)
	}
	// Reported again (a daemon that did not hear the answer): nothing changes.
	e.do("POST", "/v3/tatum/kms/batch", e.keyTest, `{"errors":[{"signatureId":"`+refused+`","error":"HTTP 403: over the limit","refused":true}]}`).want(t, 204, nil)
	if again := pendingByNonce(t, e); len(again) != 3 || again[1].ID != after[1].ID {
		t.Fatalf("after the second report: %v", again)
	}
}
