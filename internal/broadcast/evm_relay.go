package broadcast

import (
	"context"
	"fmt"
)

// MaxRelayAnswer bounds a node's answer to a relayed request; an answer of
// this size or more is refused rather than cut.
const MaxRelayAnswer = maxAnswer

// Relay posts a JSON-RPC request body (one call or a batch) to the node as
// it is and returns the node's answer as it is, for the server's web3
// gateway. The answer is not interpreted here: the caller validates it.
// A node that cannot be reached, answers an HTTP error or more than
// MaxRelayAnswer bytes wraps ErrUnavailable; no error names the node's URL
// with its secrets.
func (c *EVMClient) Relay(ctx context.Context, body []byte) (_ []byte, err error) {
	defer scrub(&err, c.url)
	status, ans, err := c.relay.post(ctx, "JSON-RPC", "", "application/json", body)
	if err != nil {
		return nil, err
	}
	if status/100 != 2 {
		return nil, fmt.Errorf("%w: JSON-RPC: HTTP %d from %s", ErrUnavailable, status, RedactURL(c.url))
	}
	if len(ans) >= MaxRelayAnswer {
		return nil, fmt.Errorf("%w: JSON-RPC: the answer is %d bytes or more", ErrUnavailable, MaxRelayAnswer)
	}
	return ans, nil
}

// Redact removes the node URL's secrets from text the node wrote (a
// JSON-RPC error message the gateway relays): a provider's error may quote
// the request URL, key included.
func (c *EVMClient) Redact(text string) string { return redactIn(text, c.url) }
