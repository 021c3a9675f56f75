package secret

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// azurePassword reads the password from Azure Key Vault (Get Secret, REST API
// 7.4) with Tatum KMS's settings: TATUM_KMS_AZURE_VAULTURL (the vault host or
// URL), _SECRETNAME and _SECRETVERSION (empty: the current version).
//
// Key Vault wants an Entra ID access token. It is taken from
// CUSTOS_AZURE_TOKEN if set, else obtained with the client-credentials grant
// from Azure's standard AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET
// (AZURE_AUTHORITY_HOST overrides the login host), else from the managed
// identity endpoint of an Azure VM (CUSTOS_AZURE_IMDS_ENDPOINT overrides it).
func azurePassword(ctx context.Context, c *http.Client, e env) ([]byte, error) {
	v, err := e.settings("AZURE_VAULTURL", "AZURE_SECRETNAME")
	if err != nil {
		return nil, err
	}
	vault, name := v[0], v[1]
	if !strings.Contains(vault, "://") {
		vault = "https://" + vault
	}
	version, _ := e.setting("AZURE_SECRETVERSION")
	u := strings.TrimRight(vault, "/") + "/secrets/" + url.PathEscape(name)
	if version != "" {
		u += "/" + url.PathEscape(version)
	}
	u += "?api-version=7.4"

	token, err := azureToken(ctx, c, e)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("azure key vault: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	raw, err := doJSON(c, req, "azure key vault")
	if err != nil {
		return nil, err
	}
	defer Zero(raw)
	// The documented answer is a SecretBundle {"value": …}; Tatum KMS reads
	// data[0].value, so that shape is accepted too.
	var out struct {
		Value *string `json:"value"`
		Data  []struct {
			Value string `json:"value"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%w: azure key vault answer is not JSON", ErrBackend)
	}
	switch {
	case out.Value != nil:
		return []byte(*out.Value), nil
	case len(out.Data) > 0:
		return []byte(out.Data[0].Value), nil
	}
	return nil, fmt.Errorf("%w: azure secret %q has no value", ErrBackend, name)
}

const azureVaultScope = "https://vault.azure.net"

func azureToken(ctx context.Context, c *http.Client, e env) (string, error) {
	if t, ok := e.setting("AZURE_TOKEN"); ok {
		return t, nil
	}
	var req *http.Request
	var err error
	if tenant := e.get("AZURE_TENANT_ID"); tenant != "" {
		id, secret := e.get("AZURE_CLIENT_ID"), e.get("AZURE_CLIENT_SECRET")
		if id == "" || secret == "" {
			return "", fmt.Errorf("%w: AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (with AZURE_TENANT_ID)", ErrMissingSetting)
		}
		host := e.get("AZURE_AUTHORITY_HOST")
		if host == "" {
			host = "https://login.microsoftonline.com"
		}
		form := url.Values{
			"grant_type":    {"client_credentials"},
			"client_id":     {id},
			"client_secret": {secret},
			"scope":         {azureVaultScope + "/.default"},
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost,
			strings.TrimRight(host, "/")+"/"+url.PathEscape(tenant)+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		imds, ok := e.setting("AZURE_IMDS_ENDPOINT")
		if !ok {
			imds = "http://169.254.169.254/metadata/identity/oauth2/token"
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet,
			imds+"?api-version=2018-02-01&resource="+url.QueryEscape(azureVaultScope), nil)
		if err == nil {
			req.Header.Set("Metadata", "true")
		}
	}
	if err != nil {
		return "", fmt.Errorf("azure token: %w", err)
	}
	raw, err := doJSON(c, req, "azure token endpoint")
	if err != nil {
		return "", err
	}
	defer Zero(raw)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(raw, &tok) != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("%w: azure token endpoint gave no access_token", ErrBackend)
	}
	return tok.AccessToken, nil
}
