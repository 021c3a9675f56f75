package approval

import (
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/custoskms/custos/internal/strictjson"
)

// ReadResponse reads the answer to req and returns it when it is a signed,
// fresh Response to req: HTTP 2xx, a body of at most MaxResponseBytes with
// no duplicate or case-variant key, and VerifyResponse's checks. It closes
// resp.Body. Any other answer is an error wrapping ErrBadResponse, which
// the daemon takes as "not approved yet".
func ReadResponse(secret []byte, resp *http.Response, req Request, now time.Time, maxAge time.Duration) (Response, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return Response{}, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Response{}, fmt.Errorf("%w: HTTP %d", ErrBadResponse, resp.StatusCode)
	}
	if len(b) > MaxResponseBytes {
		return Response{}, fmt.Errorf("%w: body larger than %d bytes", ErrBadResponse, MaxResponseBytes)
	}
	if err := strictjson.Check(b); err != nil {
		return Response{}, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	var out Response
	if err := json.Unmarshal(b, &out); err != nil {
		return Response{}, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if err := VerifyResponse(secret, out, resp.Header.Get(HeaderSignature), req, now, maxAge); err != nil {
		return Response{}, err
	}
	return out, nil
}

// VerifyResponse checks a decoded response against the request it answers:
// the same id and digest, a known decision (Pending included: the caller
// must not take it as approval), a timestamp within maxAge of
// now, and signature equal (in constant time) to SignResponse's. The error
// wraps ErrBadResponse.
func VerifyResponse(secret []byte, resp Response, signature string, req Request, now time.Time, maxAge time.Duration) error {
	if signature == "" {
		return fmt.Errorf("%w: unsigned (no %s header)", ErrBadResponse, HeaderSignature)
	}
	if !hmac.Equal([]byte(signature), []byte(SignResponse(secret, resp))) {
		return fmt.Errorf("%w: signature mismatch", ErrBadResponse)
	}
	switch {
	case resp.ID != req.ID:
		return fmt.Errorf("%w: answers id %q, asked about %q", ErrBadResponse, resp.ID, req.ID)
	case resp.Digest != req.Digest:
		return fmt.Errorf("%w: answers digest %q, asked about %q", ErrBadResponse, resp.Digest, req.Digest)
	case resp.Decision != Approve && resp.Decision != Refuse && resp.Decision != Pending:
		return fmt.Errorf("%w: decision %q, want %q, %q or %q", ErrBadResponse, resp.Decision, Approve, Refuse, Pending)
	case !fresh(resp.Timestamp, now, maxAge):
		return fmt.Errorf("%w: timestamp %d is more than %s from now", ErrBadResponse, resp.Timestamp, maxAge)
	}
	return nil
}
