package broadcast

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/custoskms/custos/internal/chain/vet"
)

// VeChainClient submits signed transactions to a VeChain Thor node's REST
// API: POST /transactions with {"raw":"0x…"}, answered {"id":"0x…"}.
type VeChainClient struct{ node *httpNode }

var _ Client = (*VeChainClient)(nil)

// DialVeChain makes a client for a Thor node's REST base URL (e.g.
// http://127.0.0.1:8669) without contacting it.
func DialVeChain(nodeURL string) (*VeChainClient, error) {
	n, err := newHTTPNode(nodeURL, "a VeChain Thor node")
	if err != nil {
		return nil, err
	}
	return &VeChainClient{node: n}, nil
}

// Broadcast submits txData (0x-hex of a signed transaction) and returns its
// id, computed locally from the signature (blake2b(signingHash ‖ origin)) and
// checked against the node's answer. A transaction the node already knows is
// a success with that id, so a retry after a lost answer does not fail.
func (c *VeChainClient) Broadcast(ctx context.Context, txData string) (_ string, err error) {
	defer scrub(&err, c.node.raw)
	body, ok := strings.CutPrefix(strings.TrimSpace(txData), "0x")
	raw, err := hex.DecodeString(body)
	if !ok || err != nil || len(raw) == 0 {
		return "", fmt.Errorf("%w: txData must be 0x-hex of a signed VeChain transaction", ErrRejected)
	}
	want, _, err := vet.DecodeSigned(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrRejected, err)
	}
	status, data, err := c.node.postREST(ctx, "/transactions", map[string]string{"raw": "0x" + body})
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		// Thor answers refusals as text: "bad tx: …" (400) or "tx rejected: …" (403).
		msg := snippet(data)
		if strings.Contains(strings.ToLower(msg), "known tx") {
			return want, nil
		}
		return "", rejected(vechainIsPermanent(msg), fmt.Sprintf("HTTP %d: %s", status, msg))
	}
	var r struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(data, &r) != nil || r.ID == "" {
		return "", fmt.Errorf("%w: POST /transactions: answer without an id", ErrUnavailable)
	}
	if !strings.EqualFold(r.ID, want) {
		return "", fmt.Errorf("%w: node answered id %s for transaction %s", ErrUnavailable, r.ID, want)
	}
	return want, nil
}
