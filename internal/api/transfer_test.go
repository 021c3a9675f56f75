package api

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
)

// builderChain is a codec-less chain whose transfer builder and fee
// estimator are the test's: the route's plumbing is tested here, the
// builders in their chain packages.
type builderChain struct {
	plainChain
	build    func(ctx context.Context, node any, body []byte, testnet bool) (chain.Transfer, error)
	estimate func(ctx context.Context, node any, body []byte, testnet bool) (any, error)
}

func (c builderChain) Transfer(ctx context.Context, node any, body []byte, testnet bool) (chain.Transfer, error) {
	return c.build(ctx, node, body, testnet)
}

func (c builderChain) EstimateFee(ctx context.Context, node any, body []byte, testnet bool) (any, error) {
	return c.estimate(ctx, node, body, testnet)
}

func withBuilder(e *env, b builderChain) {
	e.srv.lookupChain = func(code string) (chain.Chain, error) {
		c, err := chains.Lookup(code)
		if err != nil {
			return nil, err
		}
		if code != "ETH" {
			return plainChain{c}, nil
		}
		b.plainChain = plainChain{c}
		return b, nil
	}
}

func TestTransferQueuesWhatTheBuilderBuilt(t *testing.T) {
	e := newEnv(t)
	idx := uint32(7)
	var sawNode any
	var sawTestnet bool
	withBuilder(e, builderChain{build: func(_ context.Context, node any, body []byte, testnet bool) (chain.Transfer, error) {
		sawNode, sawTestnet = node, testnet
		var req struct{ Amount string }
		if err := chain.DecodeRequest(body, &req); err != nil {
			return chain.Transfer{}, err
		}
		if _, err := chain.ParseAmount("amount", req.Amount, 18); err != nil {
			return chain.Transfer{}, err
		}
		return chain.Transfer{Serialized: "built:" + req.Amount, Hashes: []string{sigA}, Index: &idx}, nil
	}})
	var got struct{ SignatureID string }
	e.do("POST", "/v3/ethereum/transaction", e.keyA, `{"amount":"1.5"}`).want(t, 200, &got)
	if !idPattern.MatchString(got.SignatureID) {
		t.Fatalf("signatureId %q is not a pending id", got.SignatureID)
	}
	if sawNode != nil || sawTestnet {
		t.Fatalf("builder got node %v (none configured) and testnet %v for a mainnet key", sawNode, sawTestnet)
	}
	var tx struct {
		Chain, SerializedTransaction string
		Hashes                       []string
		Index                        *uint32
	}
	e.do("GET", "/v3/kms/"+got.SignatureID, e.keyA, nil).want(t, 200, &tx)
	if tx.Chain != "ETH" || tx.SerializedTransaction != "built:1.5" || !slices.Equal(tx.Hashes, []string{sigA}) || tx.Index == nil || *tx.Index != 7 {
		t.Fatalf("queued %+v", tx)
	}
	// Another tenant does not see it: it was queued for the calling key.
	e.do("GET", "/v3/kms/"+got.SignatureID, e.keyB, nil).wantError(t, 403, CodeTxNotFound)

	// The builder's field errors are the 400's data.
	er := e.do("POST", "/v3/ethereum/transaction", e.keyA, `{"amount":"1.0000000000000000001"}`).wantError(t, 400, CodeValidation)
	if len(er.Data) != 1 || er.Data[0] != `amount: has more than the asset's 18 decimals, got "1.0000000000000000001"` {
		t.Fatalf("data %q", er.Data)
	}
	er = e.do("POST", "/v3/ethereum/transaction", e.keyA, `{"amount":"1","Amount":"2"}`).wantError(t, 400, CodeValidation)
	if len(er.Data) != 1 || er.Data[0] != `body: JSON object has a duplicate or case-variant key: "amount" and "Amount"` {
		t.Fatalf("data %q", er.Data)
	}
	// What the builder returns is validated as a POST /v3/kms body.
	withBuilder(e, builderChain{build: func(context.Context, any, []byte, bool) (chain.Transfer, error) {
		return chain.Transfer{Serialized: "x", Hashes: []string{"not-a-uuid"}}, nil
	}})
	er = e.do("POST", "/v3/ethereum/transaction", e.keyA, `{}`).wantError(t, 400, CodeValidation)
	if len(er.Data) != 1 || er.Data[0] != `hashes[0]: must be a UUID, got "not-a-uuid"` {
		t.Fatalf("data %q", er.Data)
	}
	// A chain without a builder is not a transfer slug.
	er = e.do("POST", "/v3/bitcoin/transaction", e.keyA, `{}`).wantError(t, 400, CodeValidation)
	if len(er.Data) != 1 || er.Data[0][:6] != "slug: " {
		t.Fatalf("data %q", er.Data)
	}
}

func TestTransferNodeErrors(t *testing.T) {
	e := newEnv(t)
	node := &fakeNode{}
	e.nodes.Set("ETH", true, node)
	var sawNode any
	fail := fmt.Errorf("%w: connection refused", broadcast.ErrUnavailable)
	withBuilder(e, builderChain{build: func(_ context.Context, n any, _ []byte, testnet bool) (chain.Transfer, error) {
		sawNode = n
		return chain.Transfer{}, fail
	}, estimate: func(_ context.Context, n any, _ []byte, _ bool) (any, error) {
		if n == nil {
			return nil, chain.FieldErrors{"chain: no node is configured"}
		}
		return nil, fmt.Errorf("%w: nonce too low", broadcast.ErrRejected)
	}})
	e.do("POST", "/v3/ethereum/transaction", e.keyTest, `{}`).wantError(t, 502, CodeNodeUnavailable)
	if sawNode != node {
		t.Fatalf("builder got node %v, want the testnet node", sawNode)
	}
	fail = fmt.Errorf("%w: insufficient funds", broadcast.ErrRejected)
	er := e.do("POST", "/v3/ethereum/transaction", e.keyTest, `{}`).wantError(t, 400, CodeValidation)
	if len(er.Data) != 1 || er.Data[0] != "body: the ETH testnet node refuses it: node rejected the transaction: insufficient funds" {
		t.Fatalf("data %q", er.Data)
	}
	er = e.do("POST", "/v3/blockchain/estimate", e.keyA, `{"chain":"ETH"}`).wantError(t, 400, CodeValidation)
	if len(er.Data) != 1 || er.Data[0] != "chain: no node is configured" {
		t.Fatalf("data %q", er.Data)
	}
	e.do("POST", "/v3/blockchain/estimate", e.keyTest, `{"chain":"ETH"}`).wantError(t, 400, CodeValidation)
	withBuilder(e, builderChain{estimate: func(context.Context, any, []byte, bool) (any, error) {
		return nil, fmt.Errorf("%w: timeout", broadcast.ErrUnavailable)
	}})
	e.do("POST", "/v3/blockchain/estimate", e.keyTest, `{"chain":"ETH"}`).wantError(t, 502, CodeNodeUnavailable)
	e.do("POST", "/v3/blockchain/estimate", e.keyA, `{"chain":"BTC"}`).wantError(t, 400, CodeValidation)
	e.do("POST", "/v3/blockchain/estimate", e.keyA, `{}`).wantError(t, 400, CodeValidation)
}

func TestEstimateAnswersTheEstimator(t *testing.T) {
	e := newEnv(t)
	e.nodes.Set("ETH", false, &fakeNode{})
	withBuilder(e, builderChain{estimate: func(_ context.Context, n any, body []byte, _ bool) (any, error) {
		return map[string]string{"gasLimit": "21000", "gasPrice": "1000000000"}, nil
	}})
	var got map[string]string
	e.do("POST", "/v3/blockchain/estimate", e.keyA, `{"chain":"ETH","type":"TRANSFER"}`).want(t, 200, &got)
	if got["gasLimit"] != "21000" || got["gasPrice"] != "1000000000" {
		t.Fatalf("answer %v", got)
	}
}

var idPattern = regexp.MustCompile(`^[0-9a-zA-Z]{24}$`)
