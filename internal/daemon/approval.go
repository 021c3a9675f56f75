package daemon

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Approval requests carry two headers so the operator's approval service can
// tell that a request comes from this daemon and was not replayed:
//
//	X-Custos-Timestamp: <Unix time in seconds, decimal>
//	X-Custos-Signature: sha256=<lowercase hex of HMAC-SHA256(secret, canonical)>
//
// where canonical is the four fields joined by a line feed (0x0A):
//
//	METHOD "\n" REQUEST-URI "\n" TIMESTAMP "\n" BODY
//
// METHOD is "GET" or "POST"; REQUEST-URI is the path as sent on the wire,
// escaped, with the query if any (Go: r.URL.RequestURI(), e.g.
// "/approve/65f1c0de0000000000000001"); TIMESTAMP is the header's value; BODY is
// the exact request body bytes (empty for GET, the PendingTx JSON for POST).
// The secret is CUSTOS_APPROVAL_SECRET. A service should compare in constant
// time and refuse timestamps far from its clock; VerifyApproval does both.
const (
	HeaderApprovalSignature = "X-Custos-Signature"
	HeaderApprovalTimestamp = "X-Custos-Timestamp"
)

// ApprovalMAC returns the X-Custos-Signature value for one request.
func ApprovalMAC(secret []byte, method, requestURI, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(method))
	m.Write([]byte{'\n'})
	m.Write([]byte(requestURI))
	m.Write([]byte{'\n'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'\n'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadApprovalSignature is returned by VerifyApproval for a request that is
// unsigned, signed with another secret, altered, or outside the allowed clock skew.
var ErrBadApprovalSignature = errors.New("approval request signature invalid")

// VerifyApproval checks an approval request's headers against its body, for
// approval services written in Go (and this package's tests).
func VerifyApproval(secret []byte, r *http.Request, body []byte, now time.Time, maxSkew time.Duration) error {
	ts := r.Header.Get(HeaderApprovalTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad timestamp", ErrBadApprovalSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return fmt.Errorf("%w: timestamp outside %s", ErrBadApprovalSignature, maxSkew)
	}
	want := ApprovalMAC(secret, r.Method, r.URL.RequestURI(), ts, body)
	if !hmac.Equal([]byte(want), []byte(r.Header.Get(HeaderApprovalSignature))) {
		return fmt.Errorf("%w: signature mismatch", ErrBadApprovalSignature)
	}
	return nil
}

// Approver asks the operator's approval service (Tatum's --externalUrl) whether
// a pending transaction may be signed: GET {url}/{id}, or POST {url}/{id} with
// the transaction JSON. Only a 2xx answer approves. A refusal status
// (403, 409 or 410) is an explicit no: Approve's error wraps ErrRefused and
// the daemon ends the transaction. Any other status, a timeout or a network
// error means not approved yet: the transaction stays pending and is asked
// about again later.
type Approver struct {
	base   *url.URL
	post   bool
	secret []byte
	// HTTP is the transport; its Timeout bounds one approval request.
	HTTP *http.Client
	// Now is the clock of the timestamp header.
	Now func() time.Time
}

// NewApprover checks the URL and method ("GET" default, or "POST") and needs a
// non-empty secret: an unsigned approval request could be forged by anyone who
// can reach the service.
func NewApprover(rawURL, method string, secret []byte, timeout time.Duration) (*Approver, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: externalUrl must be an http(s) URL", ErrConfig)
	}
	var post bool
	switch strings.ToUpper(method) {
	case "", http.MethodGet:
	case http.MethodPost:
		post = true
	default:
		return nil, fmt.Errorf("%w: externalUrlMethod must be GET or POST", ErrConfig)
	}
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: externalUrl needs an approval secret (CUSTOS_APPROVAL_SECRET)", ErrConfig)
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &Approver{base: u, post: post, secret: bytes.Clone(secret),
		HTTP: &http.Client{Timeout: timeout, CheckRedirect: noRedirects}, Now: time.Now}, nil
}

// Approve returns nil when the service approves tx, else an error wrapping ErrNotApproved.
func (a *Approver) Approve(ctx context.Context, s Subject) error {
	tx := s.Tx
	if !validPendingID(tx.ID) {
		return fmt.Errorf("%w: %w", ErrNotApproved, errBadID)
	}
	u := a.base.JoinPath(url.PathEscape(tx.ID))
	method, body := http.MethodGet, []byte(nil)
	if a.post {
		method, body = http.MethodPost, tx.JSON()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotApproved, err)
	}
	if a.post {
		req.Header.Set("Content-Type", "application/json")
	}
	ts := strconv.FormatInt(a.Now().Unix(), 10)
	req.Header.Set(HeaderApprovalTimestamp, ts)
	req.Header.Set(HeaderApprovalSignature, ApprovalMAC(a.secret, method, req.URL.RequestURI(), ts, body))
	resp, err := a.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%w: approval service: %v", ErrNotApproved, err)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return nil
	case refusal(resp.StatusCode):
		// The service's body is its reason, kept short: it is reported to
		// the API and stored among the transaction's errors.
		reason := fmt.Sprintf("HTTP %d", resp.StatusCode)
		if msg := strings.TrimSpace(strings.ToValidUTF8(string(b), "?")); msg != "" {
			reason += ": " + truncate(msg, 300)
		}
		return &RefusedError{Reason: reason}
	}
	return fmt.Errorf("%w: approval service answered HTTP %d", ErrNotApproved, resp.StatusCode)
}

// noRedirects makes a client return a redirect as the answer instead of
// following it: an approval service behind a proxy that redirects to a login
// page (200) must not approve everything, and the API key must not follow a
// redirect to another host. A 3xx is then an answer like any non-2xx.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// refusal reports whether an approval answer refuses a transaction for
// good: 403 Forbidden (a person or a policy said no), 409 Conflict (the
// transaction contradicts the service's records), 410 Gone (the request it
// was for is withdrawn). Other statuses are not refusals on purpose: 401 and
// 404 usually mean a wrong secret or URL, 429 and 5xx an overloaded or broken
// service, and none of them may end every transaction the daemon asks about.
func refusal(status int) bool {
	switch status {
	case http.StatusForbidden, http.StatusConflict, http.StatusGone:
		return true
	}
	return false
}

// RefusedError is Approve's answer to a refusal status; it wraps ErrRefused
// and ErrNotApproved. Reason is the status and the start of the body.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return ErrRefused.Error() + ": " + e.Reason }

// Is makes errors.Is match both ErrRefused and ErrNotApproved.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused || target == ErrNotApproved }
