package broadcast

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/custoskms/custos/internal/chain/vet"
)

// restNode is the HTTP side shared by the REST node clients (VeChain Thor,
// Flow Access, MultiversX gateway): one base URL whose user information
// becomes basic auth, errors that never quote the URL.
type restNode struct {
	base       string // URL without user information or trailing slash
	user, pass string
	raw        string // as configured, for redacting errors only
	http       *http.Client
}

func newRESTNode(nodeURL, what string) (*restNode, error) {
	u, err := url.Parse(nodeURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: a %s URL must be http:// or https://", ErrBadNode, what)
	}
	n := &restNode{raw: nodeURL, http: &http.Client{Timeout: 60 * time.Second}}
	if u.User != nil {
		n.user = u.User.Username()
		n.pass, _ = u.User.Password()
		u.User = nil
	}
	n.base = strings.TrimRight(u.String(), "/")
	return n, nil
}

// post sends body as JSON to base+path and returns the status and up to
// 1 MiB of the answer. Transport failures wrap ErrUnavailable.
func (n *restNode) post(ctx context.Context, path string, body any) (int, []byte, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	endpoint := n.base + path
	if q := strings.Index(n.base, "?"); q >= 0 { // keep an API key in the query after the path
		endpoint = strings.TrimRight(n.base[:q], "/") + path + n.base[q:]
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s", ErrBadNode, redactIn(err.Error(), n.raw))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if n.user != "" || n.pass != "" {
		req.SetBasicAuth(n.user, n.pass)
	}
	resp, err := n.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		}
		return 0, nil, fmt.Errorf("%w: POST %s: %s", ErrUnavailable, path, redactIn(redactIn(err.Error(), endpoint), n.raw))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: POST %s: %v", ErrUnavailable, path, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || (resp.StatusCode == http.StatusForbidden && len(bytes.TrimSpace(data)) == 0):
		// Thor refuses transactions with 403 and a reason; an empty 403 is the gateway in front.
		return 0, nil, fmt.Errorf("%w: POST %s: node refused the credentials (HTTP %d)", ErrUnavailable, path, resp.StatusCode)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return 0, nil, fmt.Errorf("%w: POST %s: HTTP %d: %s", ErrUnavailable, path, resp.StatusCode, snippet(data))
	}
	return resp.StatusCode, data, nil
}

// snippet is a node's error text cut to a size fit for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// VeChainClient submits signed transactions to a VeChain Thor node's REST
// API: POST /transactions with {"raw":"0x…"}, answered {"id":"0x…"}.
type VeChainClient struct{ node *restNode }

var _ Client = (*VeChainClient)(nil)

func init() {
	RegisterDialer("VET", func(nodeURL string) (Client, error) { return DialVeChain(nodeURL) })
}

// DialVeChain makes a client for a Thor node's REST base URL (e.g.
// http://127.0.0.1:8669) without contacting it.
func DialVeChain(nodeURL string) (*VeChainClient, error) {
	n, err := newRESTNode(nodeURL, "VeChain Thor node")
	if err != nil {
		return nil, err
	}
	return &VeChainClient{node: n}, nil
}

// Broadcast submits txData (0x-hex of a signed transaction) and returns its
// id, computed locally from the signature (blake2b(signingHash ‖ origin)) and
// checked against the node's answer. A transaction the node already knows is
// a success with that id, so a retry after a lost answer does not fail.
func (c *VeChainClient) Broadcast(ctx context.Context, txData string) (string, error) {
	body, ok := strings.CutPrefix(strings.TrimSpace(txData), "0x")
	raw, err := hex.DecodeString(body)
	if !ok || err != nil || len(raw) == 0 {
		return "", fmt.Errorf("%w: txData must be 0x-hex of a signed VeChain transaction", ErrRejected)
	}
	want, _, err := vet.DecodeSigned(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrRejected, err)
	}
	status, data, err := c.node.post(ctx, "/transactions", map[string]string{"raw": "0x" + body})
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		// Thor answers refusals as text: "bad tx: …" (400) or "tx rejected: …" (403).
		msg := snippet(data)
		if strings.Contains(strings.ToLower(msg), "known tx") {
			return want, nil
		}
		return "", fmt.Errorf("%w: HTTP %d: %s", ErrRejected, status, msg)
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
