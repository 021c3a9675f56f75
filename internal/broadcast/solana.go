package broadcast

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil/base58"
)

// SolanaClient submits signed transactions to a Solana JSON-RPC node with
// sendTransaction (base64 encoding).
type SolanaClient struct{ node *httpNode }

var _ Client = (*SolanaClient)(nil)

// DialSolana makes a client for an http(s) JSON-RPC URL without contacting the node.
func DialSolana(nodeURL string) (*SolanaClient, error) {
	n, err := newHTTPNode(nodeURL, "a Solana node")
	if err != nil {
		return nil, err
	}
	return &SolanaClient{node: n}, nil
}

// Broadcast sends the base64 wire transaction and returns its id, the fee
// payer's signature in base58. A transaction the cluster has already
// processed is a success with that id, so a retry after a lost answer does
// not report a failure for a transaction that went through.
func (c *SolanaClient) Broadcast(ctx context.Context, txData string) (_ string, err error) {
	defer scrub(&err, c.node.raw)
	txData = strings.TrimSpace(txData)
	want, err := solanaTxID(txData)
	if err != nil {
		return "", err
	}
	var res struct {
		Result *string     `json:"result"`
		Error  *jsonRPCErr `json:"error"`
	}
	req := map[string]any{"jsonrpc": "2.0", "id": 1, "method": "sendTransaction",
		"params": []any{txData, map[string]string{"encoding": "base64"}}}
	if err := c.node.postJSON(ctx, "", req, &res); err != nil {
		return "", err
	}
	switch {
	case res.Error != nil:
		if strings.Contains(strings.ToLower(res.Error.Message), "already been processed") {
			return want, nil
		}
		return "", rejected(containsAny(res.Error.Message, solanaPermanent),
			fmt.Sprintf("sendTransaction: %s (code %d)", res.Error.Message, res.Error.Code))
	case res.Result == nil:
		return "", fmt.Errorf("%w: sendTransaction answered neither result nor error", ErrUnavailable)
	case *res.Result != want:
		return "", fmt.Errorf("%w: node answered signature %s for transaction %s", ErrUnavailable, *res.Result, want)
	}
	return want, nil
}

// solanaTxID reads the first signature of a base64 wire transaction.
func solanaTxID(txData string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(txData)
	if err != nil || len(raw) < 1+64 || raw[0] == 0 || raw[0]&0x80 != 0 {
		return "", fmt.Errorf("%w: txData must be base64 of a signed Solana transaction", ErrRejected)
	}
	return base58.Encode(raw[1:65]), nil
}

type jsonRPCErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}
