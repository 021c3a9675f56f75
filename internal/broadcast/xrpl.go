package broadcast

import (
	"context"
	"fmt"
	"strings"

	"github.com/custoskms/custos/internal/chain/xrp"
)

// XRPLClient submits signed blobs to a rippled (or Clio) server with the
// JSON-RPC method submit (tx_blob).
type XRPLClient struct{ node *httpNode }

var _ Client = (*XRPLClient)(nil)

// DialXRPL makes a client for a rippled JSON-RPC URL without contacting it.
func DialXRPL(nodeURL string) (*XRPLClient, error) {
	n, err := newHTTPNode(nodeURL, "an XRP Ledger node")
	if err != nil {
		return nil, err
	}
	return &XRPLClient{node: n}, nil
}

type rippledAnswer struct {
	Result struct {
		Status              string `json:"status"`
		Error               string `json:"error"`
		ErrorMessage        string `json:"error_message"`
		EngineResult        string `json:"engine_result"`
		EngineResultMessage string `json:"engine_result_message"`
		TxJSON              struct {
			Hash string `json:"hash"`
		} `json:"tx_json"`
		Validated *bool `json:"validated"`
	} `json:"result"`
}

// Broadcast submits the tx_blob and returns its id (SHA-512Half with the TXN
// prefix). tesSUCCESS (applied provisionally) and terQUEUED (held in the
// queue) are accepted. A transaction the server already has — tefALREADY, or
// tefPAST_SEQ for a sequence that this very transaction used, which the
// method tx confirms — is a success with the same id, so a retry after a
// lost answer does not report a failure.
func (c *XRPLClient) Broadcast(ctx context.Context, txData string) (_ string, err error) {
	defer scrub(&err, c.node.raw)
	blob := strings.ToUpper(strings.TrimSpace(txData))
	id, err := xrp.TxID(blob)
	if err != nil {
		return "", fmt.Errorf("%w: txData must be the hex tx_blob of a signed transaction", ErrRejected)
	}
	var a rippledAnswer
	if err := c.node.postJSON(ctx, "", map[string]any{"method": "submit", "params": []any{map[string]string{"tx_blob": blob}}}, &a); err != nil {
		return "", err
	}
	r := a.Result
	if r.Status != "success" {
		if r.Error == "" {
			return "", fmt.Errorf("%w: submit answered status %q", ErrUnavailable, r.Status)
		}
		if r.Error == "tooBusy" || r.Error == "noNetwork" || r.Error == "noCurrent" || r.Error == "noClosed" {
			return "", fmt.Errorf("%w: submit: %s", ErrUnavailable, r.Error)
		}
		return "", rejected(xrplIsPermanent(r.Error), "submit: "+r.Error+": "+r.ErrorMessage)
	}
	if r.TxJSON.Hash != "" && !strings.EqualFold(r.TxJSON.Hash, id) {
		return "", fmt.Errorf("%w: server answered hash %s for transaction %s", ErrUnavailable, r.TxJSON.Hash, id)
	}
	switch r.EngineResult {
	case "tesSUCCESS", "terQUEUED", "tefALREADY":
		return id, nil
	case "tefPAST_SEQ":
		if c.known(ctx, id) {
			return id, nil
		}
	case "":
		return "", fmt.Errorf("%w: submit answered no engine_result", ErrUnavailable)
	}
	return "", rejected(xrplIsPermanent(r.EngineResult), r.EngineResult+": "+r.EngineResultMessage)
}

// known asks the server (method tx) whether it holds the transaction.
func (c *XRPLClient) known(ctx context.Context, id string) bool {
	var a rippledAnswer
	err := c.node.postJSON(ctx, "", map[string]any{"method": "tx", "params": []any{map[string]any{"transaction": id, "binary": false}}}, &a)
	return err == nil && a.Result.Status == "success" && strings.EqualFold(a.Result.TxJSON.Hash, id)
}
