package secret

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// A secret manager's answer is parsed by the backends: whatever it answers,
// Password returns the password or an error wrapping ErrBackend (ErrEmpty for
// an empty secret), never panics,
// and never quotes the credentials it sent.
func FuzzBackendAnswers(f *testing.F) {
	for _, a := range []string{
		`{"SecretString":"{\"pwd\":\"p\"}"}`, `{"SecretString":"{\"pwd\":5}"}`, `{"SecretString":null}`,
		`{"value":"v"}`, `{"data":[{"value":"x"}]}`, `{"data":[]}`, `{"data":{"data":{"password":"p"}}}`,
		`{"access_token":"t"}`, `null`, ``, `[`, `{"errors":["permission denied"]}`,
	} {
		for _, st := range []int{200, 400, 403, 500} {
			f.Add(a, st)
		}
	}
	var answer atomic.Value
	var status atomic.Int64
	answer.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
		_, _ = io.WriteString(w, answer.Load().(string))
	}))
	defer srv.Close()
	for k, v := range map[string]string{
		"TATUM_KMS_AWS_REGION": "eu-west-1", "TATUM_KMS_AWS_ACCESS_KEY_ID": "AKIATEST",
		"TATUM_KMS_AWS_SECRET_ACCESS_KEY": "aws-api-secret", "TATUM_KMS_AWS_SECRET_NAME": "kms/password",
		"TATUM_KMS_AWS_SECRET_KEY": "pwd", "CUSTOS_AWS_ENDPOINT": srv.URL,
		"TATUM_KMS_AZURE_VAULTURL": srv.URL, "TATUM_KMS_AZURE_SECRETNAME": "kms-password",
		"TATUM_KMS_AZURE_SECRETVERSION": "abc", "CUSTOS_AZURE_TOKEN": "azure-bearer-token",
		"CUSTOS_VGS_URL": srv.URL, "TATUM_KMS_VGS_USERNAME": "US123", "TATUM_KMS_VGS_PASSWORD": "vgs-secret",
		"TATUM_KMS_VGS_ALIAS": "tok_sandbox_abc",
		"VAULT_ADDR":          srv.URL, "VAULT_TOKEN": "hvs.fuzztoken", "CUSTOS_VAULT_MOUNT": "kv", "CUSTOS_VAULT_PATH": "custos/prod",
	} {
		f.Setenv(k, v)
	}
	f.Fuzz(func(t *testing.T, a string, st int) {
		if st < 200 || st > 599 {
			return
		}
		answer.Store(a)
		status.Store(int64(st))
		for _, b := range []Backend{AWS, Azure, VGS, Vault} {
			pw, err := Options{Backend: b}.Password(context.Background(), false)
			if err == nil {
				if len(pw) == 0 {
					t.Fatalf("%s: empty password accepted", b)
				}
				continue
			}
			if !errors.Is(err, ErrBackend) && !errors.Is(err, ErrEmpty) {
				t.Fatalf("%s: error %v wraps neither ErrBackend nor ErrEmpty", b, err)
			}
			for _, s := range []string{"aws-api-secret", "azure-bearer-token", "vgs-secret", "hvs.fuzztoken"} {
				if strings.Contains(err.Error(), s) && !strings.Contains(a, s) {
					t.Fatalf("%s: error quotes a credential: %v", b, err)
				}
			}
		}
	})
}
