package approval

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/custoskms/custos/internal/strictjson"
)

// VerifyRequest checks a request's X-Custos-Timestamp and X-Custos-Signature
// headers against its body (both protocols): the MAC is compared in constant
// time and a timestamp further than maxSkew from now is refused, so a
// recorded request cannot be replayed later. The error wraps ErrBadSignature.
func VerifyRequest(secret []byte, r *http.Request, body []byte, now time.Time, maxSkew time.Duration) error {
	ts := r.Header.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad timestamp", ErrBadSignature)
	}
	if !fresh(sec, now, maxSkew) {
		return fmt.Errorf("%w: timestamp outside %s", ErrBadSignature, maxSkew)
	}
	want := RequestMAC(secret, r.Method, r.URL.RequestURI(), ts, body)
	if !hmac.Equal([]byte(want), []byte(r.Header.Get(HeaderSignature))) {
		return fmt.Errorf("%w: signature mismatch", ErrBadSignature)
	}
	return nil
}

// ParseRequest reads and checks a v2 request: a POST of at most
// MaxRequestBytes, signed (VerifyRequest), holding one Request whose id is
// the path's last segment, whose digest is its serialized transaction's and
// whose timestamp is the header's, with no duplicate or case-variant JSON
// key. It consumes r.Body. Errors wrap ErrBadSignature or ErrBadRequest.
func ParseRequest(secret []byte, r *http.Request, now time.Time, maxSkew time.Duration) (Request, error) {
	body, err := readSigned(secret, r, MaxRequestBytes, now, maxSkew)
	if err != nil {
		return Request{}, err
	}
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		return Request{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if err := checkRequest(req, r.Header.Get(HeaderTimestamp)); err != nil {
		return Request{}, err
	}
	if path.Base(r.URL.Path) != req.ID {
		return Request{}, fmt.Errorf("%w: id %q does not match the path %q", ErrBadRequest, req.ID, r.URL.Path)
	}
	return req, nil
}

// readSigned reads the body of a signed POST of at most limit bytes with
// no duplicate or case-variant JSON key. Errors wrap ErrBadSignature or
// ErrBadRequest.
func readSigned(secret []byte, r *http.Request, limit int, now time.Time, maxSkew time.Duration) ([]byte, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("%w: method %s, want POST", ErrBadRequest, r.Method)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if len(body) > limit {
		return nil, fmt.Errorf("%w: body larger than %d bytes", ErrBadRequest, limit)
	}
	if err := VerifyRequest(secret, r, body, now, maxSkew); err != nil {
		return nil, err
	}
	if err := strict(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	return body, nil
}

// strict refuses what strictjson.Check refuses, with its error. A request
// is a plain object, which strictjson.Object reads in one quick pass; Check's
// token reader allocates for every token and cost a batch more than its
// decode. A document that is valid but not an object passes, as it passes
// Check: the decode after it judges it, as before.
func strict(body []byte) error {
	if _, err := strictjson.Object(body); err != nil && !errors.Is(err, strictjson.ErrNotObject) {
		return err
	}
	return nil
}

// checkRequest checks a decoded request against the request's timestamp
// header: version 2, an id of the valid form, the digest of its
// serialized transaction, the header's timestamp.
func checkRequest(req Request, timestamp string) error {
	switch {
	case req.Version != Version:
		return fmt.Errorf("%w: version %d, want %d", ErrBadRequest, req.Version, Version)
	case !ValidID(req.ID):
		return fmt.Errorf("%w: id %q is not a pending transaction id", ErrBadRequest, req.ID)
	case req.Digest != Digest(req.SerializedTransaction):
		return fmt.Errorf("%w: digest is not the serialized transaction's", ErrBadRequest)
	case strconv.FormatInt(req.Timestamp, 10) != timestamp:
		return fmt.Errorf("%w: timestamp differs from the header's", ErrBadRequest)
	}
	return nil
}

// Respond writes the signed answer to req: HTTP 200, the Response JSON and
// its X-Custos-Signature header. reason is shown with a refusal.
func Respond(w http.ResponseWriter, secret []byte, req Request, d Decision, reason string, now time.Time) error {
	resp := Response{ID: req.ID, Digest: req.Digest, Decision: d, Reason: reason, Timestamp: now.Unix()}
	b, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(HeaderSignature, SignResponse(secret, resp))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}
