package broadcast

import (
	"context"
	"fmt"
	"net/http"
)

// relayREST sends method path (body, JSON, when not nil) to a REST node for
// the server's node gateways and returns the node's status and answer as
// they are: the caller checks the answer. A 2xx or a 4xx (the node's verdict
// on what was asked, which the client reads as the node's) is returned;
// refused credentials, throttling, a server error, another status, an
// unreachable node or an answer of MaxRelayAnswer bytes or more wrap
// ErrUnavailable.
func (n *httpNode) relayREST(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	label := method + " /" + path
	contentType := ""
	if body != nil {
		contentType = "application/json"
	}
	status, ans, err := n.do(ctx, method, label, path, contentType, body)
	switch {
	case err != nil:
		return 0, nil, err
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests ||
		status/100 != 2 && status/100 != 4:
		return 0, nil, fmt.Errorf("%w: %s: HTTP %d: %s", ErrUnavailable, label, status, snippet(ans))
	case len(ans) >= MaxRelayAnswer:
		return 0, nil, fmt.Errorf("%w: %s: the answer is %d bytes or more", ErrUnavailable, label, MaxRelayAnswer)
	}
	return status, ans, nil
}

// RelayREST relays a read to the TRON node's HTTP API for the server's TRON
// node gateway (TronWeb's full node and solidity node); see relayREST. No
// error names the node's URL with its secrets.
func (c *TronClient) RelayREST(ctx context.Context, method, path string, body []byte) (_ int, _ []byte, err error) {
	defer scrub(&err, c.node.raw)
	return c.node.relayREST(ctx, method, path, body)
}

// Redact removes the node URL's secrets from text the node wrote.
func (c *TronClient) Redact(text string) string { return redactIn(text, c.node.raw) }

// RelayREST relays a read to the MultiversX gateway for the server's EGLD
// node gateway; see relayREST. No error names the node's URL with its
// secrets.
func (c *MultiversXClient) RelayREST(ctx context.Context, method, path string, body []byte) (_ int, _ []byte, err error) {
	defer scrub(&err, c.node.raw)
	return c.node.relayREST(ctx, method, path, body)
}

// Redact removes the node URL's secrets from text the node wrote.
func (c *MultiversXClient) Redact(text string) string { return redactIn(text, c.node.raw) }
