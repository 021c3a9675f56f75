package secret

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/httpguard"
)

func vaultEnv(addr string) *config.Source {
	src := config.NewSource(func(string) (string, bool) { return "", false }, map[string]string{
		"VAULT_ADDR": addr, "VAULT_TOKEN": "vault-token", "CUSTOS_VAULT_PATH": "kms"})
	return &src
}

// A secret manager (or something in its place) answering a redirect to
// another host gets no token there and no password from it.
func TestSecretManagerFollowsNoRedirect(t *testing.T) {
	var tokens atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") != "" {
			tokens.Add(1)
		}
		io.WriteString(w, `{"data":{"data":{"password":"from-elsewhere"}}}`)
	}))
	defer other.Close()
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer vault.Close()
	for _, c := range []*http.Client{nil, {}} {
		pw, err := Options{Backend: Vault, Env: vaultEnv(vault.URL), Client: c}.Password(context.Background(), false)
		if !errors.Is(err, ErrBackend) || !strings.Contains(err.Error(), "307") {
			t.Errorf("redirected vault: %q, %v; want the 307 as an error", pw, err)
		}
	}
	if tokens.Load() != 0 {
		t.Errorf("the vault token reached the other host %d times", tokens.Load())
	}
}

// An answer past the cap is an error, not a truncated secret.
func TestSecretManagerAnswerIsCapped(t *testing.T) {
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"data":{"data":{"password":"pw","pad":"`+strings.Repeat("x", maxAnswer)+`"}}}`)
	}))
	defer vault.Close()
	_, err := Options{Backend: Vault, Env: vaultEnv(vault.URL)}.Password(context.Background(), false)
	if !errors.Is(err, ErrBackend) || !errors.Is(err, httpguard.ErrTooLarge) {
		t.Fatalf("oversize vault answer: %v", err)
	}
}

// roundTripper answers every request itself, so that a remote host can be
// named without a network.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A secret manager reached over http:// on another host is warned about once
// per password read, one on loopback or over https not at all.
func TestSecretManagerPlaintextWarning(t *testing.T) {
	answer := roundTripper(func(r *http.Request) (*http.Response, error) {
		body := `{"data":{"data":{"password":"pw"}}}`
		if strings.Contains(r.URL.Path, "oauth2") {
			body = `{"access_token":"tok"}`
		}
		return &http.Response{StatusCode: 200, Status: "200 OK", Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}, nil
	})
	for addr, want := range map[string]int{"http://vault.internal:8200": 1, "https://vault.internal:8200": 0, "http://127.0.0.1:8200": 0} {
		var logs bytes.Buffer
		o := Options{Backend: Vault, Env: vaultEnv(addr), Client: &http.Client{Transport: answer},
			Logger: slog.New(slog.NewTextHandler(&logs, nil))}
		if _, err := o.Password(context.Background(), false); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(logs.String(), "http://"); got != want {
			t.Errorf("%s: %d warnings, want %d: %s", addr, got, want, logs.String())
		}
	}
	// Azure asks two hosts over http (login, then the vault): one warning.
	var logs bytes.Buffer
	src := config.NewSource(func(string) (string, bool) { return "", false }, map[string]string{
		"TATUM_KMS_AZURE_VAULTURL": "http://vault.internal", "TATUM_KMS_AZURE_SECRETNAME": "kms",
		"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s", "AZURE_AUTHORITY_HOST": "http://login.internal"})
	o := Options{Backend: Azure, Env: &src, Client: &http.Client{Transport: answer}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if _, err := o.Password(context.Background(), false); err != nil && !errors.Is(err, ErrBackend) {
		t.Fatal(err)
	}
	if got := strings.Count(logs.String(), "level=WARN"); got != 1 {
		t.Errorf("azure over http: %d warnings, want 1: %s", got, logs.String())
	}
}
