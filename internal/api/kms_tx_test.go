package api

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/pending"
)

func TestGetTx(t *testing.T) {
	e := newEnv(t)
	id := e.create(e.keyA, "ETH", sigA)
	var tx pending.Tx
	e.do("GET", "/v3/kms/"+id, e.keyA, nil).want(t, 200, &tx)
	if tx.ID != id || tx.Chain != "ETH" || tx.Hashes[0] != sigA {
		t.Fatalf("tx %+v", tx)
	}
	for _, bad := range []string{"short", strings.Repeat("a", 25), "aaaaaaaaaaaaaaaaaaaaaaa-", "aaaaaaaaaaaaaaaaaaaaaaa%C3%A9"} {
		e.do("GET", "/v3/kms/"+bad, e.keyA, nil).wantError(t, 400, CodeValidation)
	}
	e.do("GET", "/v3/kms/ffffffffffffffffffffffff", e.keyA, nil).wantError(t, 403, CodeTxNotFound)
	if c := e.credits(e.idA); c != 1 {
		t.Fatalf("credits %d, want 1 (detail GET)", c)
	}
}

func TestCompleteTx(t *testing.T) {
	e := newEnv(t)
	id := e.create(e.keyA, "ETH", sigA)
	e.do("PUT", "/v3/kms/"+id+"/0xabcdef0123", e.keyA, nil).want(t, 204, nil)
	e.do("PUT", "/v3/kms/"+id+"/0xabcdef0123", e.keyA, nil).want(t, 204, nil) // idempotent
	e.do("PUT", "/v3/kms/"+id+"/0xffffffffff", e.keyA, nil).wantError(t, 403, CodeTxIDConflict)
	var tx pending.Tx
	e.do("GET", "/v3/kms/"+id, e.keyA, nil).want(t, 200, &tx)
	if tx.TxID != "0xabcdef0123" {
		t.Fatalf("txId %q", tx.TxID)
	}
	e.do("PUT", "/v3/kms/"+id+"/short", e.keyA, nil).wantError(t, 400, CodeValidation)
	e.do("PUT", "/v3/kms/"+id+"/"+strings.Repeat("a", 81), e.keyA, nil).wantError(t, 400, CodeValidation)
	er := e.do("PUT", "/v3/kms/bad/short", e.keyA, nil).wantError(t, 400, CodeValidation)
	if len(er.Data) != 2 {
		t.Fatalf("data %q, want both problems", er.Data)
	}
	e.do("PUT", "/v3/kms/ffffffffffffffffffffffff/0xabcdef0123", e.keyA, nil).wantError(t, 403, CodeTxNotFound)
	del := e.create(e.keyA, "ETH", sigA)
	e.do("DELETE", "/v3/kms/"+del, e.keyA, nil).want(t, 204, nil)
	e.do("PUT", "/v3/kms/"+del+"/0xabcdef0123", e.keyA, nil).wantError(t, 403, CodeTxDeleted)
	// 2 + 2 for the completes, 1 for the GET, 2 for the delete.
	if c := e.credits(e.idA); c != 7 {
		t.Fatalf("credits %d, want 7", c)
	}
}

func TestDeleteTx(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var out struct{ ID string }
	e.do("POST", "/v3/kms", e.keyA, `{"chain":"BTC","serializedTransaction":"x","hashes":["`+sigA+`"],"withdrawalId":"wd-7"}`).want(t, 200, &out)
	e.do("DELETE", "/v3/kms/"+out.ID+"?revert=false", e.keyA, nil).want(t, 204, nil)
	e.do("GET", "/v3/kms/"+out.ID, e.keyA, nil).wantError(t, 403, CodeTxNotFound)
	e.do("DELETE", "/v3/kms/"+out.ID, e.keyA, nil).wantError(t, 403, CodeTxNotFound)
	d, err := e.store.Deletion(ctx, e.idA, out.ID)
	if err != nil || d.WithdrawalID != "wd-7" || d.Revert {
		t.Fatalf("deletion record %+v, %v", d, err)
	}
	id := e.create(e.keyA, "BTC", sigA)
	e.do("DELETE", "/v3/kms/"+id, e.keyA, nil).want(t, 204, nil)
	if d, _ := e.store.Deletion(ctx, e.idA, id); !d.Revert {
		t.Fatal("revert defaults to true")
	}
	done := e.create(e.keyA, "BTC", sigA)
	e.do("PUT", "/v3/kms/"+done+"/0xabcdef0123", e.keyA, nil).want(t, 204, nil)
	e.do("DELETE", "/v3/kms/"+done, e.keyA, nil).wantError(t, 403, CodeTxCompleted)
	for _, q := range []string{"?revert=yes", "?revert=", "?revert=true&revert=false"} {
		e.do("DELETE", "/v3/kms/"+done+q, e.keyA, nil).wantError(t, 400, CodeValidation)
	}
	e.do("DELETE", "/v3/kms/nope", e.keyA, nil).wantError(t, 400, CodeValidation)
}

// Another tenant's id answers byte for byte like an unknown id, whatever its state.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	live := e.create(e.keyA, "ETH", sigA)
	done := e.create(e.keyA, "ETH", sigA)
	e.do("PUT", "/v3/kms/"+done+"/0xabcdef0123", e.keyA, nil).want(t, 204, nil)
	gone := e.create(e.keyA, "ETH", sigA)
	e.do("DELETE", "/v3/kms/"+gone, e.keyA, nil).want(t, 204, nil)
	unknown := "0123456789abcdef01234567"
	before := e.credits(e.idA)

	requests := []struct{ method, path, body string }{
		{"GET", "/v3/kms/%s", ""},
		{"PUT", "/v3/kms/%s/0xabcdef9999", ""},
		{"DELETE", "/v3/kms/%s", ""},
		{"DELETE", "/v3/kms/%s?revert=false", ""},
		{"POST", "/v3/ethereum/broadcast", `{"txData":"0x01","signatureId":"%s"}`},
	}
	for _, rq := range requests {
		mk := func(id string) (string, string) {
			p, b := rq.path, rq.body
			if strings.Contains(p, "%s") {
				p = strings.Replace(p, "%s", id, 1)
			}
			return p, strings.Replace(b, "%s", id, 1)
		}
		p, b := mk(unknown)
		want := e.do(rq.method, p, e.keyB, b)
		want.wantError(t, 403, CodeTxNotFound)
		for _, id := range []string{live, done, gone} {
			p, b := mk(id)
			got := e.do(rq.method, p, e.keyB, b)
			if got.status != want.status || !bytes.Equal(got.body, want.body) {
				t.Fatalf("%s %s by another tenant: %d %s; unknown id: %d %s", rq.method, p, got.status, got.body, want.status, want.body)
			}
		}
	}
	var txs []pending.Tx
	e.do("GET", "/v3/kms/pending/ETH", e.keyB, nil).want(t, 200, &txs)
	if len(txs) != 0 {
		t.Fatalf("tenant B sees %v", ids(txs))
	}
	// Nothing of A's changed, and A was charged nothing.
	var tx pending.Tx
	e.do("GET", "/v3/kms/"+live, e.keyA, nil).want(t, 200, &tx)
	if tx.TxID != "" {
		t.Fatalf("foreign PUT completed A's transaction: %+v", tx)
	}
	if c := e.credits(e.idA); c != before+1 {
		t.Fatalf("A's credits %d, want %d", c, before+1)
	}
}
