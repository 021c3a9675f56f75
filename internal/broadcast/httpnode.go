package broadcast

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// httpNode is the HTTP side shared by the node clients that speak plain HTTP
// (JSON-RPC, REST, form posts): the URL's user information becomes basic
// auth, its query (where API keys sit) is kept on every request, and every
// error names the node with its URL redacted.
type httpNode struct {
	base       *url.URL // without user information
	user, pass string
	raw        string // as configured, for redacting errors only
	http       *http.Client
}

// newHTTPNode checks an http(s) node URL without contacting the node; what
// names the node in the error ("a Solana node").
func newHTTPNode(nodeURL, what string) (*httpNode, error) {
	u, err := url.Parse(nodeURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %s URL must be http:// or https://", ErrBadNode, what)
	}
	// A per-request timeout comes from the caller's context; this one only
	// bounds a node that accepts the connection and never answers.
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

// post sends body to the node URL with path appended (query kept) and returns
// the status and the answer. label ("POST /transactions", a JSON-RPC method)
// prefixes the error text when not empty. Transport failures wrap
// ErrUnavailable.
func (n *httpNode) post(ctx context.Context, label, path, contentType string, body []byte) (int, []byte, error) {
	return n.do(ctx, http.MethodPost, label, path, contentType, body)
}

// do is post for any method; a nil body sends none (a GET).
func (n *httpNode) do(ctx context.Context, method, label, path, contentType string, body []byte) (int, []byte, error) {
	return n.doQuery(ctx, method, label, path, nil, contentType, body)
}

// doQuery is do with query parameters added to the URL's own.
func (n *httpNode) doQuery(ctx context.Context, method, label, path string, query url.Values, contentType string, body []byte) (int, []byte, error) {
	if label != "" {
		label += ": "
	}
	u := n.base
	if path != "" {
		u = n.base.JoinPath(path)
	}
	if len(query) > 0 {
		q := u.Query()
		for k, v := range query {
			q[k] = v
		}
		c := *u
		c.RawQuery = q.Encode()
		u = &c
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s%s", ErrBadNode, label, redactIn(err.Error(), n.raw))
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if n.user != "" || n.pass != "" {
		req.SetBasicAuth(n.user, n.pass)
	}
	resp, err := n.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		}
		return 0, nil, fmt.Errorf("%w: %s%s", ErrUnavailable, label, redactIn(redactIn(err.Error(), u.String()), n.raw))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %sreading the answer: %w", ErrUnavailable, label, err)
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
	status, ans, err := n.post(ctx, "", path, "application/json", body)
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

// postREST posts body as JSON to a REST endpoint (VeChain Thor, Flow Access,
// MultiversX gateway) and returns the status and answer of anything the node
// itself decided; refused credentials, throttling and server errors wrap
// ErrUnavailable.
func (n *httpNode) postREST(ctx context.Context, path string, body any) (int, []byte, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	status, data, err := n.post(ctx, "POST "+path, path, "application/json", payload)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case status == http.StatusUnauthorized || (status == http.StatusForbidden && len(bytes.TrimSpace(data)) == 0):
		// Thor refuses transactions with 403 and a reason; an empty 403 is the gateway in front.
		return 0, nil, fmt.Errorf("%w: POST %s: node refused the credentials (HTTP %d)", ErrUnavailable, path, status)
	case status == http.StatusTooManyRequests || status >= 500:
		return 0, nil, fmt.Errorf("%w: POST %s: HTTP %d: %s", ErrUnavailable, path, status, snippet(data))
	}
	return status, data, nil
}

// snippet is a node's error text cut to a size fit for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
