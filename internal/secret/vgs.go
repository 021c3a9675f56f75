package secret

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// vgsPassword reveals the password from a VGS vault alias (GET /aliases/{alias},
// HTTP basic auth with vault access credentials) with Tatum KMS's settings:
// TATUM_KMS_VGS_USERNAME, _PASSWORD and _ALIAS. CUSTOS_VGS_URL replaces the
// live vault API (e.g. the sandbox, https://api.sandbox.verygoodvault.com).
func vgsPassword(ctx context.Context, c *http.Client, e env) ([]byte, error) {
	v, err := e.settings("VGS_USERNAME", "VGS_PASSWORD", "VGS_ALIAS")
	if err != nil {
		return nil, err
	}
	base, ok := e.setting("VGS_URL")
	if !ok {
		base = "https://api.live.verygoodvault.com"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/aliases/"+url.PathEscape(v[2]), nil)
	if err != nil {
		return nil, fmt.Errorf("vgs: %w", err)
	}
	req.SetBasicAuth(v[0], v[1])
	req.Header.Set("Accept", "application/json")
	raw, err := doJSON(c, req, "vgs vault")
	if err != nil {
		return nil, err
	}
	defer Zero(raw)
	var out struct {
		Data []struct {
			Value string `json:"value"`
		} `json:"data"`
	}
	if json.Unmarshal(raw, &out) != nil || len(out.Data) == 0 || out.Data[0].Value == "" {
		return nil, fmt.Errorf("%w: vgs alias has no value", ErrBackend)
	}
	return []byte(out.Data[0].Value), nil
}
