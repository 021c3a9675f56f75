package api

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

// TestOutcomeOnDetailAndListing records a tracker's outcome in the store and
// reads it back through GET /v3/kms/{id} and GET /v3/kms/transactions.
func TestOutcomeOnDetailAndListing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	before := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	queued := e.create(e.keyA, "ETH", sigA)
	id := e.create(e.keyA, "ETH", sigA)
	e.do("PUT", "/v3/kms/"+id+"/0xabcdef0123", e.keyA, nil).want(t, 204, nil)
	e.create(e.keyB, "ETH", sigA)
	if _, err := e.store.ClaimTracking(ctx, pending.TrackClaim{Owner: "t", Lease: time.Minute, Max: 10}); err != nil {
		t.Fatal(err)
	}
	block, confs := uint64(41), uint64(3)
	if err := e.store.RecordOutcome(ctx, "t", pending.OutcomeUpdate{Tenant: e.idA, ID: id, State: pending.StateFailed,
		BlockNumber: &block, Confirmations: &confs, Fee: "52000000000000", Error: "receipt status 0"}); err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	e.do("GET", "/v3/kms/"+id, e.keyA, nil).want(t, 200, &raw)
	for k, want := range map[string]string{"txId": `"0xabcdef0123"`, "status": `"failed"`, "blockNumber": "41",
		"confirmations": "3", "fee": `"52000000000000"`, "error": `"receipt status 0"`} {
		if string(raw[k]) != want {
			t.Errorf("GET %s = %s, want %s", k, raw[k], want)
		}
	}
	var list []map[string]json.RawMessage
	e.do("GET", "/v3/kms/transactions?since="+before, e.keyA, nil).want(t, 200, &list)
	if len(list) != 2 || string(list[0]["id"]) != `"`+queued+`"` || string(list[1]["status"]) != `"failed"` ||
		string(list[1]["blockNumber"]) != "41" || len(list[1]["changed"]) == 0 {
		t.Fatalf("listing %s", list)
	}
	e.do("GET", "/v3/kms/transactions?status=failed&limit=5", e.keyA, nil).want(t, 200, &list)
	if len(list) != 1 || string(list[0]["id"]) != `"`+id+`"` {
		t.Fatalf("failed listing %s", list)
	}
	e.do("GET", "/v3/kms/transactions?status=confirmed", e.keyB, nil).want(t, 200, &list)
	if len(list) != 0 {
		t.Fatalf("another tenant's listing %s", list)
	}
	for _, bad := range []string{"?status=done", "?since=yesterday", "?limit=0", "?limit=1001"} {
		e.do("GET", "/v3/kms/transactions"+bad, e.keyA, nil).wantError(t, 400, CodeValidation)
	}
	e.do("GET", "/v3/kms/transactions", "", nil).wantError(t, 401, CodeUnauthorized)
}
