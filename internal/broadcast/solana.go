package broadcast

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcutil/base58"
)

// SolanaClient submits signed transactions to a Solana JSON-RPC node with
// sendTransaction (base64 encoding).
type SolanaClient struct{ node *httpNode }

var _ Client = (*SolanaClient)(nil)

func init() {
	RegisterDialer("SOL", func(nodeURL string) (Client, error) { return DialSolana(nodeURL) })
}

// DialSolana makes a client for an http(s) JSON-RPC URL without contacting the node.
func DialSolana(nodeURL string) (*SolanaClient, error) {
	n, err := newHTTPNode(nodeURL, "a Solana")
	if err != nil {
		return nil, err
	}
	return &SolanaClient{node: n}, nil
}

// Broadcast sends the base64 wire transaction and returns its id, the fee
// payer's signature in base58. A transaction the cluster has already
// processed is a success with that id, so a retry after a lost answer does
// not report a failure for a transaction that went through.
func (c *SolanaClient) Broadcast(ctx context.Context, txData string) (string, error) {
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
		return "", fmt.Errorf("%w: sendTransaction: %s (code %d)", ErrRejected, res.Error.Message, res.Error.Code)
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

// httpNode is the HTTP side shared by the JSON and form-posting node clients
// of this package: the URL's user information becomes basic auth, and every
// error names the node with its URL redacted.
type httpNode struct {
	base       *url.URL // without user information
	user, pass string
	raw        string // as configured, for redacting errors only
	http       *http.Client
}

func newHTTPNode(nodeURL, what string) (*httpNode, error) {
	u, err := url.Parse(nodeURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %s node URL must be http:// or https://", ErrBadNode, what)
	}
	n := &httpNode{raw: nodeURL, http: &http.Client{Timeout: 60 * time.Second}}
	if u.User != nil {
		n.user = u.User.Username()
		n.pass, _ = u.User.Password()
		u.User = nil
	}
	n.base = u
	return n, nil
}

// maxAnswer bounds what is read of a node's answer.
const maxAnswer = 4 << 20

// post sends body to the node URL with path appended (query kept: API keys
// live there) and returns the status and the answer.
func (n *httpNode) post(ctx context.Context, path, contentType string, body []byte) (int, []byte, error) {
	u := n.base
	if path != "" {
		u = n.base.JoinPath(path)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s", ErrUnavailable, redactIn(err.Error(), n.raw))
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if n.user != "" || n.pass != "" {
		req.SetBasicAuth(n.user, n.pass)
	}
	resp, err := n.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		}
		return 0, nil, fmt.Errorf("%w: %s", ErrUnavailable, redactIn(redactIn(err.Error(), u.String()), n.raw))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: reading the answer: %w", ErrUnavailable, err)
	}
	return resp.StatusCode, b, nil
}

// postJSON posts v as JSON and decodes a 2xx JSON answer into out. JSON-RPC
// nodes answer errors with 200; other statuses mean the node is not usable.
func (n *httpNode) postJSON(ctx context.Context, path string, v, out any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	return n.postRaw(ctx, path, body, out)
}

// postRaw posts a JSON body as it is (TRON's broadcast takes the signed
// transaction JSON verbatim) and decodes a 2xx JSON answer into out.
func (n *httpNode) postRaw(ctx context.Context, path string, body []byte, out any) error {
	status, ans, err := n.post(ctx, path, "application/json", body)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("%w: HTTP %d from %s", ErrUnavailable, status, RedactURL(n.raw))
	}
	if err := json.Unmarshal(ans, out); err != nil {
		return fmt.Errorf("%w: answer is not the expected JSON", ErrUnavailable)
	}
	return nil
}
