package broadcast

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/custoskms/custos/internal/chain/flow"
)

// FlowClient submits signed transactions to a Flow Access node's REST API:
// POST /v1/transactions with the transaction JSON, answered with the
// transaction and its "id".
type FlowClient struct{ node *httpNode }

var _ Client = (*FlowClient)(nil)

// DialFlow makes a client for an Access node's REST base URL (e.g.
// http://127.0.0.1:8888, with or without /v1) without contacting it.
func DialFlow(nodeURL string) (*FlowClient, error) {
	n, err := newHTTPNode(nodeURL, "a Flow Access node")
	if err != nil {
		return nil, err
	}
	n.base.Path = strings.TrimSuffix(strings.TrimRight(n.base.Path, "/"), "/v1")
	return &FlowClient{node: n}, nil
}

// Broadcast submits txData (the signed transaction JSON Sign produced) and
// returns its id, computed locally and checked against the node's answer.
func (c *FlowClient) Broadcast(ctx context.Context, txData string) (_ string, err error) {
	defer scrub(&err, c.node.raw)
	tx, obj, err := flow.ParseTx(txData)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrRejected, err)
	}
	if len(tx.EnvelopeSignatures) == 0 {
		return "", fmt.Errorf("%w: the transaction has no envelope signature (the payer has not signed)", ErrRejected)
	}
	want, err := tx.ID()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrRejected, err)
	}
	delete(obj, "signer")
	status, data, err := c.node.postREST(ctx, "/v1/transactions", obj)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK && status != http.StatusCreated {
		// Access API errors are {"code": …, "message": "…"}.
		var e struct {
			Message string `json:"message"`
		}
		msg := snippet(data)
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			msg = e.Message
		}
		if l := strings.ToLower(msg); strings.Contains(l, "duplicate") || strings.Contains(l, "already exists") {
			return want, nil
		}
		return "", rejected(containsAny(msg, flowPermanent), fmt.Sprintf("HTTP %d: %s", status, msg))
	}
	var r struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(data, &r) != nil || r.ID == "" {
		return "", fmt.Errorf("%w: POST /v1/transactions: answer without an id", ErrUnavailable)
	}
	if !strings.EqualFold(r.ID, want) {
		return "", fmt.Errorf("%w: node answered id %s for transaction %s", ErrUnavailable, r.ID, want)
	}
	return want, nil
}
