package secret

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// awsPassword reads the password from AWS Secrets Manager (GetSecretValue,
// JSON 1.1 protocol, Signature Version 4) with Tatum KMS's settings:
// TATUM_KMS_AWS_REGION, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY, _SECRET_NAME, and
// _SECRET_KEY, the field of the JSON SecretString holding the password (when
// unset, the whole SecretString is the password). CUSTOS_AWS_SESSION_TOKEN
// adds temporary credentials; CUSTOS_AWS_ENDPOINT replaces the regional
// endpoint (VPC endpoints, tests).
func awsPassword(ctx context.Context, c *http.Client, e env) ([]byte, error) {
	v, err := e.settings("AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_NAME")
	if err != nil {
		return nil, err
	}
	region, keyID, secretKey, name := v[0], v[1], v[2], v[3]
	endpoint, ok := e.setting("AWS_ENDPOINT")
	if !ok {
		endpoint = "https://secretsmanager." + region + ".amazonaws.com"
	}
	body, _ := json.Marshal(map[string]string{"SecretId": name})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("aws secrets manager: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	token, _ := e.setting("AWS_SESSION_TOKEN")
	signV4(req, body, awsCredentials{keyID, secretKey, token}, region, "secretsmanager", time.Now())
	raw, err := doJSON(c, req, "aws secrets manager")
	if err != nil {
		return nil, err
	}
	defer Zero(raw)
	var out struct {
		SecretString *string
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.SecretString == nil {
		return nil, fmt.Errorf("%w: aws secret %q has no SecretString", ErrBackend, name)
	}
	field, ok := e.setting("AWS_SECRET_KEY")
	if !ok {
		return []byte(*out.SecretString), nil
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(*out.SecretString), &fields); err != nil {
		return nil, fmt.Errorf("%w: aws secret %q is not a JSON object", ErrBackend, name)
	}
	pw, ok := fields[field].(string)
	if !ok {
		return nil, fmt.Errorf("%w: aws secret %q has no string field %q", ErrBackend, name, field)
	}
	return []byte(pw), nil
}

type awsCredentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// signV4 adds AWS Signature Version 4 headers (X-Amz-Date, the session token,
// Authorization) to req, whose body is body. It signs the host, every X-Amz-*
// header and Content-Type.
func signV4(req *http.Request, body []byte, cred awsCredentials, region, service string, now time.Time) {
	now = now.UTC()
	amzDate := now.Format("20060102T150405Z")
	day := now.Format("20060102")
	req.Header.Set("X-Amz-Date", amzDate)
	if cred.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", cred.SessionToken)
	}
	payload := sha256.Sum256(body)

	headers := map[string]string{"host": req.URL.Host}
	if req.Host != "" {
		headers["host"] = req.Host
	}
	for k, vs := range req.Header {
		lk := strings.ToLower(k)
		if lk == "content-type" || strings.HasPrefix(lk, "x-amz-") {
			for i := range vs {
				vs[i] = strings.Join(strings.Fields(vs[i]), " ")
			}
			headers[lk] = strings.Join(vs, ",")
		}
	}
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var canonHeaders strings.Builder
	for _, k := range names {
		canonHeaders.WriteString(k + ":" + headers[k] + "\n")
	}
	signed := strings.Join(names, ";")

	creq := strings.Join([]string{
		req.Method,
		canonicalPath(req.URL),
		canonicalQuery(req.URL.Query()),
		canonHeaders.String(),
		signed,
		hex.EncodeToString(payload[:]),
	}, "\n")
	scope := day + "/" + region + "/" + service + "/aws4_request"
	h := sha256.Sum256([]byte(creq))
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(h[:])

	key := hmacSHA256([]byte("AWS4"+cred.SecretAccessKey), day)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, "aws4_request")
	sig := hex.EncodeToString(hmacSHA256(key, sts))
	Zero(key)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+cred.AccessKeyID+"/"+scope+
		", SignedHeaders="+signed+", Signature="+sig)
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// awsEscape is RFC 3986 percent-encoding of everything but unreserved characters.
func awsEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func canonicalPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if un, err := url.PathUnescape(s); err == nil {
			s = un
		}
		segs[i] = awsEscape(s)
	}
	return strings.Join(segs, "/")
}

func canonicalQuery(q url.Values) string {
	var pairs []string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, awsEscape(k)+"="+awsEscape(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}
