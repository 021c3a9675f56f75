package api

import (
	"context"
	"errors"
	"fmt"
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
