package broadcast

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// TronClient submits signed transactions to a TRON full node (or its HTTP
// gateway, TronGrid) with POST /wallet/broadcasttransaction, whose body is the
// signed transaction JSON itself.
type TronClient struct{ node *httpNode }

var _ Client = (*TronClient)(nil)

// DialTron makes a client for a TRON node's HTTP API base URL without contacting it.
func DialTron(nodeURL string) (*TronClient, error) {
	n, err := newHTTPNode(nodeURL, "a TRON node")
	if err != nil {
		return nil, err
	}
	return &TronClient{node: n}, nil
}

// Response codes of broadcasttransaction (java-tron's Return.response_code)
// that say the node, not the transaction, is the problem.
var tronBusy = map[string]bool{"SERVER_BUSY": true, "NO_CONNECTION": true, "NOT_ENOUGH_EFFECTIVE_CONNECTION": true, "BLOCK_UNSOLIDIFIED": true}

// Broadcast submits the signed JSON and returns its txID, sha256 of
// raw_data_hex. DUP_TRANSACTION_ERROR (the node already has it) is a success
// with the same id, so a retry after a lost answer does not report a failure.
func (c *TronClient) Broadcast(ctx context.Context, txData string) (_ string, err error) {
	defer scrub(&err, c.node.raw)
	var tx struct {
		RawDataHex string   `json:"raw_data_hex"`
		Signature  []string `json:"signature"`
	}
	if err := json.Unmarshal([]byte(txData), &tx); err != nil || len(tx.Signature) == 0 {
		return "", fmt.Errorf("%w: txData must be a signed TRON transaction JSON", ErrRejected)
	}
	raw, err := hex.DecodeString(tx.RawDataHex)
	if err != nil || len(raw) == 0 {
		return "", fmt.Errorf("%w: raw_data_hex is not hex", ErrRejected)
	}
	sum := sha256.Sum256(raw)
	id := hex.EncodeToString(sum[:])
	var a struct {
		Result  bool   `json:"result"`
		Code    string `json:"code"`
		Message string `json:"message"`
		TxID    string `json:"txid"`
	}
	if err := c.node.postRaw(ctx, "wallet/broadcasttransaction", []byte(strings.TrimSpace(txData)), &a); err != nil {
		return "", err
	}
	switch {
	case a.Result || a.Code == "SUCCESS":
		if a.TxID != "" && !strings.EqualFold(a.TxID, id) {
			return "", fmt.Errorf("%w: node answered txid %s for transaction %s", ErrUnavailable, a.TxID, id)
		}
		return id, nil
	case a.Code == "DUP_TRANSACTION_ERROR":
		return id, nil
	case tronBusy[a.Code]:
		return "", fmt.Errorf("%w: broadcasttransaction: %s %s", ErrUnavailable, a.Code, tronMessage(a.Message))
	case a.Code == "":
		return "", fmt.Errorf("%w: broadcasttransaction answered neither result nor code", ErrUnavailable)
	}
	return "", rejected(tronPermanent[a.Code], a.Code+": "+tronMessage(a.Message))
}

// tronMessage decodes the hex-encoded text java-tron puts in message.
func tronMessage(m string) string {
	if b, err := hex.DecodeString(m); err == nil && utf8.Valid(b) {
		return string(b)
	}
	return m
}
