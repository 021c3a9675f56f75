package approval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custoskms/custos/internal/strictjson"
)

// The batch form of protocol v2 asks about several transactions in one
// exchange: POST {url}/batch with a BatchRequest, signed as a single
// request is (RequestMAC over the exact body), answered 200 with a
// BatchResponse whose every item carries the single response's MAC in its
// signature field. It adds to v2 without a version change: a service that
// predates it answers 404 or 405, and the daemon then asks one request at a
// time, as before.
const (
	// BatchSegment is the last path segment of a batch request; it cannot
	// be a transaction id (ValidID).
	BatchSegment = "batch"
	// MaxBatch is the most requests one batch holds.
	MaxBatch = 128
	// MaxBatchRequestBytes caps a batch request's body, as MaxRequestBytes
	// caps a single one: a daemon asks about a transaction too large to
	// share that bound on its own.
	MaxBatchRequestBytes = MaxRequestBytes
	// MaxBatchItemBytes is what one item of a batch answer may take on
	// average: a batch answer is at most its request count times this.
	MaxBatchItemBytes = 4 << 10
	// MaxBatchReasonBytes caps each item's reason in RespondBatch, so that
	// an answer stays within its bound whatever a service's reasons.
	MaxBatchReasonBytes = 1 << 10
)

// BatchRequest is the body of a batch request (POST {url}/batch).
type BatchRequest struct {
	// Version is 2.
	Version int `json:"version"`
	// Requests are 1 to MaxBatch single requests, each exactly as it
	// would be sent alone, with distinct ids and the header's timestamp.
	Requests []Request `json:"requests"`
}

// BatchResponse is the body of the answer to a batch request.
type BatchResponse struct {
	Responses []BatchItem `json:"responses"`
}

// BatchItem is one answer of a batch: a Response and its signature, the
// value a single answer's X-Custos-Signature header would hold
// (SignResponse).
type BatchItem struct {
	Response
	Signature string `json:"signature"`
}

// Answer is a service's decision on one request of a batch.
type Answer struct {
	Decision Decision
	// Reason is shown with a refusal (RespondBatch shortens it to
	// MaxBatchReasonBytes).
	Reason string
}

// Result is what a batch answer says about one request: Response, or Err
// (wrapping ErrBadResponse) when the answer held no valid response to it.
type Result struct {
	Response Response
	Err      error
}

// ParseBatchRequest reads and checks a batch request: a POST to a path
// ending in BatchSegment of at most MaxBatchRequestBytes, signed
// (VerifyRequest), holding a BatchRequest of 1 to MaxBatch requests with
// distinct ids, each as ParseRequest checks a single one (its version, id
// form, digest and the header's timestamp), with no duplicate or
// case-variant JSON key. One bad request fails the batch. It consumes
// r.Body. Errors wrap ErrBadSignature or ErrBadRequest.
func ParseBatchRequest(secret []byte, r *http.Request, now time.Time, maxSkew time.Duration) ([]Request, error) {
	if path.Base(r.URL.Path) != BatchSegment {
		return nil, fmt.Errorf("%w: path %q is not a batch's", ErrBadRequest, r.URL.Path)
	}
	body, err := readSigned(secret, r, MaxBatchRequestBytes, now, maxSkew)
	if err != nil {
		return nil, err
	}
	var b BatchRequest
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	switch {
	case b.Version != Version:
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadRequest, b.Version, Version)
	case len(b.Requests) == 0 || len(b.Requests) > MaxBatch:
		return nil, fmt.Errorf("%w: %d requests, want 1 to %d", ErrBadRequest, len(b.Requests), MaxBatch)
	}
	ts := r.Header.Get(HeaderTimestamp)
	seen := make(map[string]bool, len(b.Requests))
	for i, req := range b.Requests {
		if err := checkRequest(req, ts); err != nil {
			return nil, fmt.Errorf("request %d: %w", i, err)
		}
		if seen[req.ID] {
			return nil, fmt.Errorf("%w: id %s asked twice", ErrBadRequest, req.ID)
		}
		seen[req.ID] = true
	}
	return b.Requests, nil
}

// RespondBatch writes the signed answers to reqs, answers[i] being
// reqs[i]'s: HTTP 200 and a BatchResponse, each item signed with
// SignResponse.
func RespondBatch(w http.ResponseWriter, secret []byte, reqs []Request, answers []Answer, now time.Time) error {
	if len(answers) != len(reqs) {
		return fmt.Errorf("approval: %d answers to %d requests", len(answers), len(reqs))
	}
	out := BatchResponse{Responses: make([]BatchItem, len(reqs))}
	for i, req := range reqs {
		resp := Response{ID: req.ID, Digest: req.Digest, Decision: answers[i].Decision,
			Reason: shorten(answers[i].Reason, MaxBatchReasonBytes), Timestamp: now.Unix()}
		out.Responses[i] = BatchItem{Response: resp, Signature: SignResponse(secret, resp)}
	}
	b := appendBatchResponse(make([]byte, 0, len(reqs)*256), out.Responses)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	return err
}

// shorten cuts s to at most n bytes at a character boundary.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// StatusError is ReadBatchResponse's error for an answer whose status is
// not 200: the daemon then asks about each request alone, and after a 404
// or 405 (a service without the batch form) stops sending batches.
type StatusError struct{ Status int }

func (e *StatusError) Error() string {
	return fmt.Sprintf("%v: batch answered HTTP %d", ErrBadResponse, e.Status)
}

// Is makes errors.Is match ErrBadResponse.
func (e *StatusError) Is(target error) bool { return target == ErrBadResponse }

// NoBatch reports whether the status says the service has no batch form.
func (e *StatusError) NoBatch() bool {
	return e.Status == http.StatusNotFound || e.Status == http.StatusMethodNotAllowed
}

// ReadBatchResponse reads the answer to a batch of reqs and returns one
// Result per request, results[i] being reqs[i]'s. It closes resp.Body.
//
// The answer as a whole must be HTTP 200 (else a *StatusError), at most
// len(reqs) × MaxBatchItemBytes, a BatchResponse with no duplicate or
// case-variant key (else an error wrapping ErrBadResponse and no results).
// Then each request's item is found by id, in any order, and checked as a
// single answer is (VerifyResponse against its signature field). A request
// with no item, with more than one, or whose item fails the checks has a
// Result whose Err wraps ErrBadResponse: never an approval nor a refusal.
// Items for ids not asked are ignored.
func ReadBatchResponse(secret []byte, resp *http.Response, reqs []Request, now time.Time, maxAge time.Duration) ([]Result, error) {
	defer resp.Body.Close()
	limit := int64(len(reqs)) * MaxBatchItemBytes
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Status: resp.StatusCode}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: batch answer larger than %d bytes", ErrBadResponse, limit)
	}
	out, err := parseBatchResponse(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	// Where each id's item is: -1 when it came more than once, which
	// answers nothing (which of the two would be the service's?).
	at := make(map[string]int, len(reqs))
	for i := range reqs {
		at[reqs[i].ID] = len(out.Responses)
	}
	for i, it := range out.Responses {
		j, asked := at[it.ID]
		switch {
		case !asked:
		case j == len(out.Responses):
			at[it.ID] = i
		default:
			at[it.ID] = -1
		}
	}
	res := make([]Result, len(reqs))
	for i, req := range reqs {
		switch j := at[req.ID]; j {
		case len(out.Responses):
			res[i].Err = fmt.Errorf("%w: no answer for %s in the batch", ErrBadResponse, req.ID)
		case -1:
			res[i].Err = fmt.Errorf("%w: several answers for %s in the batch", ErrBadResponse, req.ID)
		default:
			it := out.Responses[j]
			if err := VerifyResponse(secret, it.Response, it.Signature, req, now, maxAge); err != nil {
				res[i].Err = err
			} else {
				res[i].Response = it.Response
			}
		}
	}
	return res, nil
}

// parseBatchResponse decodes a batch answer as strictjson.Check and then
// json.Unmarshal into a BatchResponse would, reading the document once to
// check it and split its top level (strictjson.Object, whose quick reader
// is several times cheaper than Check's tokens) and decoding only the
// responses' array. The top-level key is matched as json.Unmarshal matches
// a field's name, case-insensitively; unknown keys are ignored, as it
// ignores them.
func parseBatchResponse(b []byte) (BatchResponse, error) {
	var out BatchResponse
	top, err := strictjson.Object(b)
	if errors.Is(err, strictjson.ErrNotObject) {
		// Valid JSON that is not an object: json.Unmarshal's answer (null
		// decodes to nothing, anything else is its type error).
		err = json.Unmarshal(b, &out)
		return out, err
	}
	if err != nil {
		return BatchResponse{}, err
	}
	for k, v := range top {
		// Check refused case variants: at most one key matches.
		if strings.EqualFold(k, "responses") {
			if err := json.Unmarshal(v, &out.Responses); err != nil {
				return BatchResponse{}, err
			}
		}
	}
	return out, nil
}
