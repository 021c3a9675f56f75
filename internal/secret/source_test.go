package secret

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/custoskms/custos/internal/config"
)

// The password and the secret managers' settings come from the source the
// command gives (environment, then env file), never from the process alone.
func TestOptionsReadTheGivenSource(t *testing.T) {
	for _, k := range []string{"CUSTOS_PASSWORD", "TATUM_KMS_PASSWORD", "VAULT_ADDR", "VAULT_TOKEN", "CUSTOS_VAULT_PATH"} {
		t.Setenv(k, "process-value")
	}
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	src := config.NewSource(env(map[string]string{"TATUM_KMS_PASSWORD": "from-env"}), map[string]string{"CUSTOS_PASSWORD": "from-file"})
	if pw, err := (Options{Env: &src}).Password(context.Background(), false); err != nil || string(pw) != "from-env" {
		t.Fatalf("password = %q, %v; want the environment's Tatum name before the file", pw, err)
	}
	src = config.NewSource(env(nil), map[string]string{"CUSTOS_PASSWORD": "from-file"})
	if pw, err := (Options{Env: &src}).Password(context.Background(), false); err != nil || string(pw) != "from-file" {
		t.Fatalf("password = %q, %v; want the env file's", pw, err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") != "file-token" || r.URL.Path != "/v1/secret/data/kms" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Write([]byte(`{"data":{"data":{"password":"vault-pw"}}}`))
	}))
	defer srv.Close()
	src = config.NewSource(env(map[string]string{"VAULT_ADDR": srv.URL}), map[string]string{"VAULT_TOKEN": "file-token", "CUSTOS_VAULT_PATH": "kms"})
	if pw, err := (Options{Backend: Vault, Env: &src}).Password(context.Background(), false); err != nil || string(pw) != "vault-pw" {
		t.Fatalf("vault password = %q, %v", pw, err)
	}
	src = config.NewSource(env(nil), nil)
	if _, err := (Options{Backend: Vault, Env: &src}).Password(context.Background(), false); !errors.Is(err, ErrMissingSetting) {
		t.Fatalf("vault without settings: %v (the process environment must not be read)", err)
	}
}
