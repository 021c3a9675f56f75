package secret

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/harden"
)

func TestAzureKeyVault(t *testing.T) {
	mux := http.NewServeMux()
	// Entra ID token endpoint (client-credentials grant).
	mux.HandleFunc("POST /tenant-1/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("client_id") != "app" ||
			r.Form.Get("client_secret") != "app-secret" || r.Form.Get("scope") != "https://vault.azure.net/.default" {
			w.WriteHeader(401)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3599, "access_token": "tok-123"})
	})
	// Key Vault Get Secret.
	mux.HandleFunc("GET /secrets/kms-password/{version}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-123" || r.URL.Query().Get("api-version") == "" {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"code":"Unauthorized","message":"AKV10000"}}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"value": "azure-wallet-password",
			"id": "https://v.vault.azure.net/secrets/kms-password/" + r.PathValue("version"), "attributes": map[string]any{"enabled": true}})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	t.Setenv("TATUM_KMS_AZURE_VAULTURL", srv.URL)
	t.Setenv("TATUM_KMS_AZURE_SECRETNAME", "kms-password")
	t.Setenv("TATUM_KMS_AZURE_SECRETVERSION", "abc")
	t.Setenv("AZURE_TENANT_ID", "tenant-1")
	t.Setenv("AZURE_CLIENT_ID", "app")
	t.Setenv("AZURE_CLIENT_SECRET", "app-secret")
	t.Setenv("AZURE_AUTHORITY_HOST", srv.URL)
	pw, err := Options{Backend: Azure}.Password(context.Background(), false)
	if err != nil || string(pw) != "azure-wallet-password" {
		t.Fatalf("password %q, %v", pw, err)
	}
	t.Setenv("AZURE_CLIENT_SECRET", "wrong")
	if _, err := (Options{Backend: Azure}).Password(context.Background(), false); !errors.Is(err, ErrBackend) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad client secret: %v", err)
	}
	// A token given directly skips the login.
	t.Setenv("CUSTOS_AZURE_TOKEN", "tok-123")
	if pw, err := (Options{Backend: Azure}).Password(context.Background(), false); err != nil || string(pw) != "azure-wallet-password" {
		t.Fatalf("with token: %q %v", pw, err)
	}
}

func TestVGS(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "US123" || p != "vgs-secret" {
			w.WriteHeader(401)
			return
		}
		if r.URL.Path != "/aliases/tok_sandbox_abc" {
			w.WriteHeader(404)
			io.WriteString(w, `{"errors":[{"status":404,"title":"Not Found","detail":"alias not found"}]}`)
			return
		}
		io.WriteString(w, `{"data":[{"value":"vgs-wallet-password","classifiers":[],"aliases":[{"value":"tok_sandbox_abc","format":"UUID"}],"created_at":"2019-05-15T12:30:45Z","storage":"PERSISTENT"}]}`)
	}))
	defer srv.Close()
	t.Setenv("CUSTOS_VGS_URL", srv.URL)
	t.Setenv("TATUM_KMS_VGS_USERNAME", "US123")
	t.Setenv("TATUM_KMS_VGS_PASSWORD", "vgs-secret")
	t.Setenv("TATUM_KMS_VGS_ALIAS", "tok_sandbox_abc")
	pw, err := Options{Backend: VGS}.Password(context.Background(), false)
	if err != nil || string(pw) != "vgs-wallet-password" {
		t.Fatalf("password %q, %v", pw, err)
	}
	t.Setenv("TATUM_KMS_VGS_ALIAS", "tok_missing")
	if _, err := (Options{Backend: VGS}).Password(context.Background(), false); !errors.Is(err, ErrBackend) || !strings.Contains(err.Error(), "404") {
		t.Fatalf("unknown alias: %v", err)
	}
}

func TestVaultKV2(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") != "hvs.test" {
			w.WriteHeader(403)
			io.WriteString(w, `{"errors":["permission denied"]}`)
			return
		}
		if r.URL.Path != "/v1/kv/data/custos/prod" || r.Header.Get("X-Vault-Namespace") != "team" {
			w.WriteHeader(404)
			io.WriteString(w, `{"errors":[]}`)
			return
		}
		io.WriteString(w, `{"request_id":"1","lease_id":"","renewable":false,"lease_duration":0,"data":{"data":{"password":"vault-wallet-password"},"metadata":{"created_time":"2018-03-22T02:24:06.945319214Z","deletion_time":"","destroyed":false,"version":1}}}`)
	}))
	defer srv.Close()
	t.Setenv("VAULT_ADDR", srv.URL)
	t.Setenv("VAULT_TOKEN", "hvs.test")
	t.Setenv("VAULT_NAMESPACE", "team")
	t.Setenv("CUSTOS_VAULT_MOUNT", "kv")
	t.Setenv("CUSTOS_VAULT_PATH", "custos/prod")
	pw, err := Options{Backend: Vault}.Password(context.Background(), false)
	if err != nil || string(pw) != "vault-wallet-password" {
		t.Fatalf("password %q, %v", pw, err)
	}
	t.Setenv("VAULT_TOKEN", "hvs.bad")
	if _, err := (Options{Backend: Vault}).Password(context.Background(), false); !errors.Is(err, ErrBackend) || !strings.Contains(err.Error(), "403") || strings.Contains(err.Error(), "hvs") {
		t.Fatalf("bad token: %v", err)
	}
	t.Setenv("CUSTOS_VAULT_PATH", "")
	if _, err := (Options{Backend: Vault}).Password(context.Background(), false); !errors.Is(err, ErrMissingSetting) {
		t.Fatalf("no path: %v", err)
	}
}

func TestLocalSources(t *testing.T) {
	ctx := context.Background()
	os.Unsetenv("CUSTOS_PASSWORD")
	t.Setenv("TATUM_KMS_PASSWORD", "")
	// Two lines on stdin: the password, then a mnemonic.
	p := NewPrompter(strings.NewReader("pw-from-stdin\r\nword word\n"), io.Discard)
	if p.Terminal() {
		t.Fatal("a reader is not a terminal")
	}
	pw, err := Options{Prompter: p}.Password(ctx, true)
	if err != nil || string(pw) != "pw-from-stdin" {
		t.Fatalf("stdin password %q %v", pw, err)
	}
	if m, err := p.Read("mnemonic"); err != nil || string(m) != "word word" {
		t.Fatalf("second line %q %v", m, err)
	}
	if _, err := p.Read("private key"); !errors.Is(err, ErrNoInput) {
		t.Fatalf("at EOF: %v", err)
	}
	if _, err := NewPrompter(strings.NewReader("  \n"), io.Discard).Read("password"); !errors.Is(err, ErrEmpty) {
		t.Fatalf("blank line: %v", err)
	}
	if _, err := NewPrompter(strings.NewReader("last-line-no-newline"), io.Discard).Read("password"); err != nil {
		t.Fatalf("unterminated last line: %v", err)
	}

	t.Setenv("TATUM_KMS_PASSWORD", "tatum-env-pw")
	if pw, _ := (Options{Prompter: p}).Password(ctx, false); string(pw) != "tatum-env-pw" {
		t.Fatalf("TATUM_KMS_PASSWORD alias: %q", pw)
	}
	t.Setenv("CUSTOS_PASSWORD", "custos-env-pw")
	if pw, _ := (Options{Prompter: p}).Password(ctx, false); string(pw) != "custos-env-pw" {
		t.Fatalf("CUSTOS_PASSWORD: %q", pw)
	}

	f := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(f, []byte("file-pw\n"), 0o600)
	o := Options{PasswordFile: f, Prompter: p}
	if o.Kind() != File {
		t.Fatalf("kind %s", o.Kind())
	}
	if pw, err := o.Password(ctx, false); err != nil || string(pw) != "file-pw" {
		t.Fatalf("password file: %q %v", pw, err)
	}
	os.WriteFile(f, []byte("\n"), 0o600)
	if _, err := o.Password(ctx, false); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty password file: %v", err)
	}
	if runtime.GOOS != "windows" {
		// Readable by others: refused, as ssh refuses such a key, with the fix in the error.
		os.WriteFile(f, []byte("file-pw\n"), 0o600)
		os.Chmod(f, 0o644)
		if pw, err := o.Password(ctx, false); !errors.Is(err, harden.ErrLooseFile) || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("0644 password file: %q %v", pw, err)
		}
	}
}
