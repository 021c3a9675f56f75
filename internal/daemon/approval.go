package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/httpguard"
)

// The approval wire format lives in the public approval package, so that a
// service written in Go decodes requests with the daemon's own types. These
// names keep earlier callers compiling.
const (
	HeaderApprovalSignature = approval.HeaderSignature
	HeaderApprovalTimestamp = approval.HeaderTimestamp
)

// ErrBadApprovalSignature is approval.ErrBadSignature.
var ErrBadApprovalSignature = approval.ErrBadSignature

// ApprovalMAC is approval.RequestMAC.
func ApprovalMAC(secret []byte, method, requestURI, timestamp string, body []byte) string {
	return approval.RequestMAC(secret, method, requestURI, timestamp, body)
}

// VerifyApproval is approval.VerifyRequest.
func VerifyApproval(secret []byte, r *http.Request, body []byte, now time.Time, maxSkew time.Duration) error {
	return approval.VerifyRequest(secret, r, body, now, maxSkew)
}

// Protocol is the approval protocol version (--approval-protocol).
type Protocol string

const (
	// ProtocolV2 (the default) posts the bytes to sign, their digest and
	// their intent, and needs a signed, fresh answer naming them.
	ProtocolV2 Protocol = "v2"
	// ProtocolV1 is Tatum KMS's: GET {url}/{id} (or POST of the pending
	// transaction's JSON); any 2xx approves, 403, 409 and 410 refuse.
	ProtocolV1 Protocol = "v1"
)

// ApproverConfig configures NewApprover; zero fields take the defaults noted.
type ApproverConfig struct {
	// URL is the approval service's base URL (--externalUrl): https, or
	// http to a loopback host only.
	URL string
	// Protocol is ProtocolV2 (default) or ProtocolV1.
	Protocol Protocol
	// Method is v1's request method (--externalUrlMethod): GET (default)
	// or POST. v2 always posts.
	Method string
	// Secret is the HMAC key of requests and v2 responses (required).
	Secret []byte
	// Timeout bounds one approval request (default 10 s).
	Timeout time.Duration
	// MaxAge is how far a v2 response's timestamp may be from the daemon's
	// clock (default approval.DefaultMaxAge).
	MaxAge time.Duration
	// InFlight is how many v2 requests (single or batch) may be in flight
	// at once before further ones wait to go together in a batch (default
	// DefaultApprovalsInFlight).
	InFlight int
}

// DefaultApprovalsInFlight is ApproverConfig.InFlight's default.
const DefaultApprovalsInFlight = 1

// Approver asks the operator's approval service (Tatum's --externalUrl)
// whether a pending transaction may be signed (docs/design.md §6.3).
//
// v2: POST {url}/{id} with an approval.Request; only a 200 answer holding an
// approval.Response for that id and digest, signed with the secret and
// fresh, decides; a signed "refuse" is final (the error wraps ErrRefused).
// Requests asked while others are in flight go together in one POST
// {url}/batch, each item decided as a single answer is (approvalbatch.go).
//
// v1: GET {url}/{id}, or POST with the transaction JSON. Any 2xx approves; a
// refusal status (403, 409 or 410) is final.
//
// Anything else (another answer, a timeout, a network error) means not
// approved yet: the transaction stays pending and is asked about again later.
type Approver struct {
	base   *url.URL
	proto  Protocol
	post   bool
	secret []byte
	maxAge time.Duration
	// HTTP is the transport; its Timeout bounds one approval request.
	HTTP *http.Client
	// Now is the clock of the timestamps sent and checked.
	Now func() time.Time
	// batch gathers v2 requests asked at once into batch requests.
	batch *approvalBatcher
}

// NewApprover checks cfg. The secret is required: an unsigned approval
// request could be forged by anyone who can reach the service. The URL
// must be https unless its host is loopback: over plain http anyone on the
// path reads the transactions and, in v1, answers for the service.
func NewApprover(cfg ApproverConfig) (*Approver, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: externalUrl must be an https URL", ErrConfig)
	}
	if u.Scheme == "http" && !httpguard.Loopback(u.Hostname()) {
		return nil, fmt.Errorf("%w: externalUrl must be https (http only to a loopback host: 127.0.0.0/8, ::1, localhost), got %s", ErrConfig, u.Redacted())
	}
	a := &Approver{base: u, proto: cfg.Protocol, secret: bytes.Clone(cfg.Secret), maxAge: cfg.MaxAge, Now: time.Now}
	switch a.proto {
	case "":
		a.proto = ProtocolV2
	case ProtocolV1, ProtocolV2:
	default:
		return nil, fmt.Errorf("%w: approval protocol must be v1 or v2", ErrConfig)
	}
	switch strings.ToUpper(cfg.Method) {
	case "", http.MethodGet:
	case http.MethodPost:
		a.post = true
	default:
		return nil, fmt.Errorf("%w: externalUrlMethod must be GET or POST", ErrConfig)
	}
	if len(cfg.Secret) == 0 {
		return nil, fmt.Errorf("%w: externalUrl needs an approval secret (CUSTOS_APPROVAL_SECRET)", ErrConfig)
	}
	if a.maxAge <= 0 {
		a.maxAge = approval.DefaultMaxAge
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	a.HTTP = &http.Client{Timeout: timeout, Transport: keepAlive(), CheckRedirect: httpguard.NoRedirects}
	a.batch = newApprovalBatcher(a, cfg.InFlight)
	return a, nil
}

// Protocol returns the protocol the approver speaks.
func (a *Approver) Protocol() Protocol { return a.proto }

// Approve returns nil when the service approves s, else an error wrapping
// ErrNotApproved (and ErrRefused for a final refusal).
func (a *Approver) Approve(ctx context.Context, s Subject) error {
	if !validPendingID(s.Tx.ID) {
		return fmt.Errorf("%w: %w", ErrNotApproved, errBadID)
	}
	if a.proto == ProtocolV1 {
		return a.approveV1(ctx, s.Tx)
	}
	return a.approveV2(ctx, s)
}

// send makes one signed request to {url}/{id}.
func (a *Approver) send(ctx context.Context, id, method string, ts int64, body []byte) (*http.Response, error) {
	u := a.base.JoinPath(url.PathEscape(id))
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotApproved, err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	t := strconv.FormatInt(ts, 10)
	req.Header.Set(approval.HeaderTimestamp, t)
	req.Header.Set(approval.HeaderSignature, approval.RequestMAC(a.secret, method, req.URL.RequestURI(), t, body))
	resp, err := a.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w: approval service: %v", ErrNotApproved, err)
	}
	return resp, nil
}

func (a *Approver) approveV2(ctx context.Context, s Subject) error {
	if !s.Decoded {
		// The service would decide on bytes nobody decoded for it.
		return fmt.Errorf("%w: approval protocol v2 sends the transaction's intent, and %s transactions cannot be decoded into one (use --approval-protocol v1 for this chain)", ErrNotApproved, s.Tx.Chain)
	}
	req := v2Request(s, a.Now())
	ans, err := a.batch.ask(ctx, req)
	if errors.Is(err, errAskAlone) {
		ans, err = a.single(ctx, req, nil)
	}
	if err != nil {
		return err
	}
	switch ans.Decision {
	case approval.Refuse:
		reason := shortReason(ans.Reason)
		if reason == "" {
			reason = "no reason given"
		}
		return &RefusedError{Reason: reason}
	case approval.Pending:
		// The service is waiting for its operators: asked again next period.
		return fmt.Errorf("%w: the approval service has not decided yet: %s", ErrNotApproved, shortReason(ans.Reason))
	case approval.Approve:
		return nil
	}
	return fmt.Errorf("%w: decision %q", ErrNotApproved, ans.Decision)
}

// v2Request is the request about s stamped at now.
func v2Request(s Subject, now time.Time) approval.Request {
	req := approval.Request{
		Version:               approval.Version,
		ID:                    s.Tx.ID,
		Chain:                 s.Intent.Chain,
		Network:               s.Intent.Network,
		SignatureIDs:          s.Tx.signatureIDs(),
		Indexes:               append([]uint32{}, s.Indexes...),
		SerializedTransaction: s.Tx.SerializedTransaction,
		Digest:                approval.DigestPrefix + s.txDigest(),
		Intent:                s.Intent,
		Timestamp:             now.Unix(),
	}
	if s.Tx.QueuedBy != "" {
		req.QueuedBy = &approval.QueuedBy{APIKeyID: s.Tx.QueuedBy}
	}
	return req
}

// single asks about req alone: POST {url}/{id} with body, req's JSON
// (nil: encoded here).
func (a *Approver) single(ctx context.Context, req approval.Request, body []byte) (approval.Response, error) {
	if body == nil {
		body = approval.AppendRequest(nil, &req)
	}
	resp, err := a.send(ctx, req.ID, http.MethodPost, req.Timestamp, body)
	if err != nil {
		return approval.Response{}, err
	}
	ans, err := approval.ReadResponse(a.secret, resp, req, a.Now(), a.maxAge)
	if err != nil {
		return approval.Response{}, fmt.Errorf("%w: %w", ErrNotApproved, err)
	}
	return ans, nil
}

func (a *Approver) approveV1(ctx context.Context, tx PendingTx) error {
	method, body := http.MethodGet, []byte(nil)
	if a.post {
		method, body = http.MethodPost, tx.JSON()
	}
	resp, err := a.send(ctx, tx.ID, method, a.Now().Unix(), body)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, approval.MaxResponseBytes))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return nil
	case refusal(resp.StatusCode):
		// The service's body is its reason, kept short: it is reported to
		// the API and stored among the transaction's errors.
		reason := fmt.Sprintf("HTTP %d", resp.StatusCode)
		if msg := shortReason(string(b)); msg != "" {
			reason += ": " + msg
		}
		return &RefusedError{Reason: reason}
	}
	return fmt.Errorf("%w: approval service answered HTTP %d", ErrNotApproved, resp.StatusCode)
}

// shortReason is a service's reason as reported to the API: valid UTF-8,
// trimmed, at most 300 bytes.
func shortReason(s string) string {
	return truncate(strings.TrimSpace(strings.ToValidUTF8(s, "?")), 300)
}

// refusal reports whether a v1 approval answer refuses a transaction for
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

// RefusedError is Approve's answer to a final refusal; it wraps ErrRefused
// and ErrNotApproved. Reason is v1's status and the start of the body, or
// v2's signed response's reason.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return ErrRefused.Error() + ": " + e.Reason }

// Is makes errors.Is match both ErrRefused and ErrNotApproved.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused || target == ErrNotApproved }
