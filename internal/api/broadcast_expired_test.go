package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/pending"
)

// windowedChain is a codec-less chain with a validity window: expired answers
// for the stored transaction and the node it is asked with.
type windowedChain struct {
	plainChain
	asked   *[]string
	expired func(node any, serialized string) (bool, error)
}

func (w windowedChain) Expired(_ context.Context, node any, serialized string) (bool, error) {
	*w.asked = append(*w.asked, serialized)
	return w.expired(node, serialized)
}

var _ chain.Windowed = windowedChain{}

// A node's refusal of a transaction whose validity window has passed ends
// it as expired (broadcast.failed, so that the signer stops); a refusal
// within the window, one the node cannot date, and an unreachable node
// leave it pending.
func TestBroadcastExpired(t *testing.T) {
	for _, tc := range []struct {
		name     string
		nodeErr  error
		expired  bool
		askErr   error
		asked    bool
		wantCode string
		status   int
	}{
		{name: "window passed", nodeErr: fmt.Errorf("%w: blockhash not found", broadcast.ErrRejected), expired: true, asked: true, wantCode: CodeTxFailed, status: 403},
		{name: "within the window", nodeErr: fmt.Errorf("%w: blockhash not found", broadcast.ErrRejected), asked: true, wantCode: CodeRejected, status: 403},
		{name: "node cannot tell", nodeErr: fmt.Errorf("%w: blockhash not found", broadcast.ErrRejected), askErr: errors.New("timeout"), asked: true, wantCode: CodeRejected, status: 403},
		{name: "node down", nodeErr: fmt.Errorf("%w: connection refused", broadcast.ErrUnavailable), expired: true, wantCode: CodeNodeUnavailable, status: 502},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			node := &fakeNode{err: tc.nodeErr}
			e.nodes.Set("SOL", false, node)
			var asked []string
			e.srv.lookupChain = func(code string) (chain.Chain, error) {
				c, err := chains.Lookup(code)
				if err != nil {
					return nil, err
				}
				return windowedChain{plainChain{c}, &asked, func(n any, _ string) (bool, error) {
					if n != broadcast.Client(node) {
						t.Errorf("asked with node %v, not the network's", n)
					}
					return tc.expired, tc.askErr
				}}, nil
			}
			id := e.create(e.keyA, "SOL", sigA)
			er := e.do("POST", "/v3/solana/broadcast", e.keyA, `{"txData":"signed","signatureId":"`+id+`"}`).wantError(t, tc.status, tc.wantCode)
			if tc.asked != (len(asked) == 1) || (tc.asked && asked[0] != `{"to":"x"}`) {
				t.Fatalf("asked about %q", asked)
			}
			left, err := e.store.Pending(t.Context(), pending.PendingQuery{Tenant: e.idA, Chain: "SOL"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantCode != CodeTxFailed {
				if len(left) != 1 {
					t.Fatalf("not left pending: %+v", left)
				}
				return
			}
			const want = "expired: the validity window passed before broadcast (node: "
			if len(left) != 0 || !strings.HasPrefix(er.Message, want) || !strings.Contains(er.Message, "blockhash not found") {
				t.Fatalf("pending %+v, message %q", left, er.Message)
			}
			if msgs, err := e.store.Errors(t.Context(), e.idA, id); err != nil || len(msgs) != 1 || !strings.HasPrefix(msgs[0], want) {
				t.Fatalf("errors kept %q, %v", msgs, err)
			}
		})
	}
}

// An expiry at broadcast is told to both kinds of subscriber: Tatum's
// KMS_FAILED_TX, then our KMS_TX_EXPIRED (no txId), in the write that ends
// the transaction; GET /v3/kms/{id} and the listing's filter say expired.
func TestBroadcastExpiredNotifies(t *testing.T) {
	e := newEnv(t)
	e.nodes.Set("SOL", false, &fakeNode{err: fmt.Errorf("%w: blockhash not found", broadcast.ErrRejected)})
	var asked []string
	e.srv.lookupChain = func(code string) (chain.Chain, error) {
		c, err := chains.Lookup(code)
		if err != nil {
			return nil, err
		}
		return windowedChain{plainChain{c}, &asked, func(any, string) (bool, error) { return true, nil }}, nil
	}
	e.subscribe(e.keyA, pending.EventFailed, "https://8.8.8.8/failed")
	e.subscribe(e.keyA, pending.EventExpired, "https://8.8.8.8/expired")
	e.subscribe(e.keyB, pending.EventExpired, "https://1.1.1.1/b")
	other := e.create(e.keyA, "SOL", sigA)
	id := e.create(e.keyA, "SOL", sigA)
	e.do("POST", "/v3/solana/broadcast", e.keyA, `{"txData":"signed","signatureId":"`+id+`"}`).wantError(t, 403, CodeTxFailed)

	reason := "expired: the validity window passed before broadcast (node: node rejected the transaction: blockhash not found)"
	var got []string
	ds := e.claim()
	slices.SortFunc(ds, func(a, b pending.Delivery) int { return cmp.Compare(a.Order, b.Order) })
	for _, d := range ds {
		if d.Tenant != e.idA || d.PendingID != id {
			t.Fatalf("delivery %+v, want only A's about %s", d, id)
		}
		got = append(got, d.Type+" "+string(d.Body))
	}
	want := []string{
		`KMS_FAILED_TX {"signatureId":"` + id + `","error":"` + reason + `","subscriptionType":"KMS_FAILED_TX"}`,
		`KMS_TX_EXPIRED {"signatureId":"` + id + `","status":"expired","error":"` + reason + `","subscriptionType":"KMS_TX_EXPIRED"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("deliveries\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var d map[string]any
	e.do("GET", "/v3/kms/"+id, e.keyA, nil).want(t, 200, &d)
	if d["status"] != "expired" || d["error"] != reason {
		t.Fatalf("GET %v", d)
	}
	var list []map[string]any
	e.do("GET", "/v3/kms/transactions?status=expired", e.keyA, nil).want(t, 200, &list)
	if len(list) != 1 || list[0]["id"] != id {
		t.Fatalf("expired listing %v (the other, %s, is queued)", list, other)
	}
}
