package secret

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// vaultPassword reads the password from HashiCorp Vault's KV version 2 engine
// (GET /v1/{mount}/data/{path}) with Vault's own VAULT_ADDR, VAULT_TOKEN and
// VAULT_NAMESPACE, plus CUSTOS_VAULT_MOUNT (default "secret"),
// CUSTOS_VAULT_PATH (required) and CUSTOS_VAULT_FIELD (default "password").
func vaultPassword(ctx context.Context, c *http.Client, e env) ([]byte, error) {
	addr, token := e.get("VAULT_ADDR"), e.get("VAULT_TOKEN")
	path, _ := e.setting("VAULT_PATH")
	var missing []string
	for k, v := range map[string]string{"VAULT_ADDR": addr, "VAULT_TOKEN": token, "CUSTOS_VAULT_PATH": path} {
		if v == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrMissingSetting, strings.Join(missing, ", "))
	}
	mount, ok := e.setting("VAULT_MOUNT")
	if !ok {
		mount = "secret"
	}
	field, ok := e.setting("VAULT_FIELD")
	if !ok {
		field = "password"
	}
	u := strings.TrimRight(addr, "/") + "/v1/" + strings.Trim(mount, "/") + "/data/" + strings.Trim(path, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	req.Header.Set("X-Vault-Token", token)
	if ns := e.get("VAULT_NAMESPACE"); ns != "" {
		req.Header.Set("X-Vault-Namespace", ns)
	}
	raw, err := doJSON(c, req, "vault")
	if err != nil {
		return nil, err
	}
	defer Zero(raw)
	var out struct {
		Data struct {
			Data map[string]any `json:"data"`
		} `json:"data"`
	}
	if json.Unmarshal(raw, &out) != nil {
		return nil, fmt.Errorf("%w: vault answer is not KV v2 JSON", ErrBackend)
	}
	pw, ok := out.Data.Data[field].(string)
	if !ok {
		return nil, fmt.Errorf("%w: vault secret %q has no string field %q", ErrBackend, path, field)
	}
	return []byte(pw), nil
}
