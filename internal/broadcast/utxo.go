package broadcast

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/btcsuite/btcd/wire"
)

// UTXOClient submits signed transactions to a Bitcoin-family node (bitcoind,
// btcd, bchd, litecoind, dogecoind) with the JSON-RPC method
// sendrawtransaction, which all of them serve with the same shape.
type UTXOClient struct {
	node *httpNode
	// esplora, when set, answers the transfer builder's reads (unspent
	// outputs, outputs, fee rate) instead of the node: serve's
	// --utxo-source CODE=esplora:URL.
	esplora *Esplora
}

// WithEsplora returns a copy of c whose unspent outputs, outputs and fee
// rate come from e; broadcasting and everything else stay the node's.
func (c *UTXOClient) WithEsplora(e *Esplora) *UTXOClient {
	cp := *c
	cp.esplora = e
	return &cp
}

var _ Client = (*UTXOClient)(nil)

// DialUTXO makes a client for http(s)://[user:password@]host:port without
// contacting the node; the URL's credentials become HTTP basic auth (the
// nodes' rpcuser/rpcpassword).
func DialUTXO(nodeURL string) (*UTXOClient, error) {
	n, err := newHTTPNode(nodeURL, "a UTXO node")
	if err != nil {
		return nil, err
	}
	return &UTXOClient{node: n}, nil
}

type rpcRequest struct {
	JSONRPC string `json:"jsonrpc"`
	ID      int    `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

type rpcResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Broadcast submits txData (hex of a signed transaction) and returns its id.
// It is idempotent: a transaction the node already has, in its mempool or in
// a block, is a success with the same id, so a retry after a lost answer never
// reports a failure for a transaction that went through.
func (c *UTXOClient) Broadcast(ctx context.Context, txData string) (_ string, err error) {
	defer scrub(&err, c.node.raw)
	raw, err := hex.DecodeString(strings.TrimSpace(txData))
	tx := new(wire.MsgTx)
	if err != nil || len(raw) == 0 || tx.Deserialize(bytes.NewReader(raw)) != nil {
		return "", fmt.Errorf("%w: txData must be the hex of a signed transaction", ErrRejected)
	}
	want := tx.TxHash().String()
	var got string
	code, msg, err := c.call(ctx, "sendrawtransaction", []any{hex.EncodeToString(raw)}, &got)
	switch {
	case err != nil:
		return "", err
	case msg != "":
		if alreadyHave(code, msg) {
			return want, nil
		}
		return "", rejected(utxoIsPermanent(msg), fmt.Sprintf("%s (code %d)", msg, code))
	case got != want:
		return "", fmt.Errorf("%w: node answered txid %s for transaction %s", ErrUnavailable, got, want)
	}
	return want, nil
}

// alreadyHave matches the nodes' answers for a transaction they already hold:
// bitcoind-derived nodes (litecoind, dogecoind) "txn-already-in-mempool",
// "txn-already-known" and code -27 (already in the chain); btcd and bchd
// "already have transaction".
func alreadyHave(code int, msg string) bool {
	m := strings.ToLower(msg)
	return code == -27 || strings.Contains(m, "already in block chain") || strings.Contains(m, "txn-already-in-mempool") ||
		strings.Contains(m, "txn-already-known") || strings.Contains(m, "already have transaction")
}

// call makes one JSON-RPC call. A JSON-RPC error comes back as (code,
// message, nil); transport failures and garbage as ErrUnavailable.
func (c *UTXOClient) call(ctx context.Context, method string, params []any, result any) (int, string, error) {
	body, err := json.Marshal(rpcRequest{JSONRPC: "1.0", ID: 1, Method: method, Params: params})
	if err != nil {
		return 0, "", err
	}
	status, data, err := c.node.post(ctx, method, "", "application/json", body)
	if err != nil {
		return 0, "", err
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return 0, "", fmt.Errorf("%w: %s: node refused the credentials (HTTP %d)", ErrUnavailable, method, status)
	}
	// bitcoind answers JSON-RPC errors with HTTP 500 and a JSON body: decode
	// the body whatever the status.
	var r rpcResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return 0, "", fmt.Errorf("%w: %s: HTTP %d with a body that is not JSON-RPC", ErrUnavailable, method, status)
	}
	if r.Error != nil {
		msg := r.Error.Message
		if msg == "" {
			msg = "error without message"
		}
		return r.Error.Code, msg, nil
	}
	if err := json.Unmarshal(r.Result, result); err != nil {
		return 0, "", fmt.Errorf("%w: %s: unexpected result", ErrUnavailable, method)
	}
	return 0, "", nil
}
