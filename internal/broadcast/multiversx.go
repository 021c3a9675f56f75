package broadcast

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/custoskms/custos/internal/chain/egld"
)

// MultiversXClient submits signed transactions to a MultiversX gateway (or an
// observer's proxy): POST /transaction/send with the signed transaction JSON,
// answered {"data":{"txHash":"…"},"error":"","code":"successful"}.
type MultiversXClient struct{ node *httpNode }

var _ Client = (*MultiversXClient)(nil)

// DialMultiversX makes a client for a gateway base URL without contacting it.
func DialMultiversX(nodeURL string) (*MultiversXClient, error) {
	n, err := newHTTPNode(nodeURL, "a MultiversX gateway")
	if err != nil {
		return nil, err
	}
	return &MultiversXClient{node: n}, nil
}

type mxAnswer struct {
	Data *struct {
		TxHash string `json:"txHash"`
	} `json:"data"`
	Error string `json:"error"`
	Code  string `json:"code"`
}

// Broadcast submits txData (the signed transaction JSON) and returns its
// hash, computed locally (blake2b of the protobuf form) and checked against
// the gateway's answer. The signature is verified first: the gateway would
// refuse a bad one anyway, and this way a refusal names the cause.
func (c *MultiversXClient) Broadcast(ctx context.Context, txData string) (_ string, err error) {
	defer scrub(&err, c.node.raw)
	tx, err := egld.ParseSigned(txData)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrRejected, err)
	}
	want := tx.Hash()
	status, data, err := c.node.postREST(ctx, "/transaction/send", json.RawMessage(tx.JSON()))
	if err != nil {
		return "", err
	}
	var r mxAnswer
	if json.Unmarshal(data, &r) != nil {
		return "", fmt.Errorf("%w: POST /transaction/send: HTTP %d with a body that is not the gateway's JSON", ErrUnavailable, status)
	}
	if status != http.StatusOK || r.Code != "successful" || r.Data == nil {
		msg := r.Error
		if msg == "" {
			msg = snippet(data)
		}
		if strings.Contains(strings.ToLower(msg), "already") {
			return want, nil
		}
		return "", rejected(containsAny(msg, multiversxPermanent), fmt.Sprintf("HTTP %d: %s", status, msg))
	}
	if r.Data.TxHash != want {
		return "", fmt.Errorf("%w: gateway answered hash %s for transaction %s", ErrUnavailable, r.Data.TxHash, want)
	}
	return want, nil
}
