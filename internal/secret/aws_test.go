package secret

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// AWS's published Signature Version 4 test suite (credential scope
// AKIDEXAMPLE/20150830/us-east-1/service/aws4_request).
func TestSignV4TestSuite(t *testing.T) {
	cred := awsCredentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	for _, tc := range []struct{ name, url, sig string }{
		{"get-vanilla", "https://example.amazonaws.com/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-query-order-key-case", "https://example.amazonaws.com/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	} {
		req, _ := http.NewRequest("GET", tc.url, nil)
		signV4(req, nil, cred, "us-east-1", "service", at)
		want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + tc.sig
		if got := req.Header.Get("Authorization"); got != want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, want)
		}
		if req.Header.Get("X-Amz-Date") != "20150830T123600Z" {
			t.Errorf("%s: X-Amz-Date %q", tc.name, req.Header.Get("X-Amz-Date"))
		}
	}
}

// fakeSecretsManager answers GetSecretValue as the documented JSON 1.1 API does.
func fakeSecretsManager(t *testing.T, secretString string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		auth := r.Header.Get("Authorization")
		if r.Method != "POST" || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" ||
			r.Header.Get("Content-Type") != "application/x-amz-json-1.1" ||
			!strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIATEST/") ||
			!strings.Contains(auth, "/eu-west-1/secretsmanager/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=") {
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"IncompleteSignature","message":"bad request"}`)
			return
		}
		var in struct{ SecretId string }
		json.Unmarshal(body, &in)
		if in.SecretId != "kms/password" {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:kms/password", "Name": in.SecretId,
			"SecretString": secretString, "VersionId": "v1", "CreatedDate": 1.5e9})
	}))
}

func TestAWSSecretsManager(t *testing.T) {
	srv := fakeSecretsManager(t, `{"pwd":"aws-wallet-password"}`)
	defer srv.Close()
	t.Setenv("TATUM_KMS_AWS_REGION", "eu-west-1")
	t.Setenv("TATUM_KMS_AWS_ACCESS_KEY_ID", "AKIATEST")
	t.Setenv("TATUM_KMS_AWS_SECRET_ACCESS_KEY", "aws-api-secret")
	t.Setenv("TATUM_KMS_AWS_SECRET_NAME", "kms/password")
	t.Setenv("TATUM_KMS_AWS_SECRET_KEY", "pwd")
	t.Setenv("CUSTOS_AWS_ENDPOINT", srv.URL)
	o := Options{Backend: AWS}
	pw, err := o.Password(context.Background(), false)
	if err != nil || string(pw) != "aws-wallet-password" {
		t.Fatalf("password %q, %v", pw, err)
	}
	t.Setenv("TATUM_KMS_AWS_SECRET_KEY", "other")
	if _, err := o.Password(context.Background(), false); !errors.Is(err, ErrBackend) || strings.Contains(err.Error(), "aws-wallet-password") {
		t.Fatalf("missing field: %v", err)
	}
	t.Setenv("TATUM_KMS_AWS_SECRET_NAME", "nope")
	_, err = o.Password(context.Background(), false)
	if !errors.Is(err, ErrBackend) || !strings.Contains(err.Error(), "400") || strings.Contains(err.Error(), "aws-api-secret") {
		t.Fatalf("unknown secret: %v", err)
	}
	t.Setenv("TATUM_KMS_AWS_REGION", "")
	if _, err := o.Password(context.Background(), false); !errors.Is(err, ErrMissingSetting) || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Fatalf("missing region: %v", err)
	}
}
