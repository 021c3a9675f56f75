package broadcast

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// getJSON asks a REST node (Horizon, the MultiversX gateway) GET path and
// decodes a 2xx JSON answer into out. A 4xx answer other than refused
// credentials or throttling is the node's verdict on what was asked (an
// account it does not hold, a malformed address) and wraps ErrRejected: no
// retry changes it. Everything else wraps ErrUnavailable.
func (n *httpNode) getJSON(ctx context.Context, path string, out any) error {
	return n.getJSONQuery(ctx, path, nil, out)
}

// getJSONQuery is getJSON with query parameters.
func (n *httpNode) getJSONQuery(ctx context.Context, path string, query url.Values, out any) error {
	status, data, err := n.doQuery(ctx, http.MethodGet, "GET "+path, path, query, "", nil)
	if err != nil {
		return err
	}
	switch {
	case status/100 == 2:
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("%w: GET %s: HTTP %d: %s", ErrUnavailable, path, status, snippet(data))
	case status/100 == 4:
		return fmt.Errorf("%w: GET %s: HTTP %d: %s", ErrRejected, path, status, snippet(data))
	default:
		return fmt.Errorf("%w: GET %s: HTTP %d", ErrUnavailable, path, status)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: GET %s: answer is not the expected JSON", ErrUnavailable, path)
	}
	return nil
}
