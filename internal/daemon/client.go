package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/httpguard"
)

// DefaultMaxAnswer caps what the client reads of one API answer. A pending
// answer holds every transaction a claim (or, without leases, the whole
// chain's pending set) returns, each up to the API's 1 MiB transaction cap:
// 256 MiB is some 100,000 typical transactions, far past any claim, yet a
// finite amount of the daemon's memory that a broken or hostile API cannot
// exceed.
const DefaultMaxAnswer = 256 << 20

// ReportChunk is how many error reports one POST /v3/tatum/kms/batch carries.
// Each report is cut to maxReportError bytes, which JSON may escape to six
// times as many, so that 100 of them stay under the API's 4 MiB cap for
// the route.
const ReportChunk = 100

// maxReportError is the longest error the API keeps of a report.
const maxReportError = 4096

// Client is the daemon's HTTP client of the pending-transaction API (docs/design.md §4).
// It retries with exponential backoff on network errors, 429 and 5xx answers,
// never on another 4xx: those are final and reported as *HTTPError.
type Client struct {
	base   *url.URL
	apiKey string

	// HTTP is the transport; its Timeout bounds one attempt.
	HTTP *http.Client
	// Retries is how many times a failed request is tried again.
	Retries int
	// Backoff is the first delay between attempts; it doubles up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Logger receives one line per retry; nil discards.
	Logger *slog.Logger
	// SignerID, when set, makes each pending request a claim: the API returns
	// only transactions no other signer holds a lease on and leases them to
	// this one for LeaseSeconds (the API's default when 0), so daemons that
	// share wallets do not sign the same transaction at once.
	SignerID     string
	LeaseSeconds int
	// MaxAnswer caps the bytes read of one answer; it defaults to DefaultMaxAnswer.
	MaxAnswer int64
	// SingleBroadcasts sends each broadcast on a request of its own, as
	// Tatum's API takes them, instead of gathering concurrent ones into
	// batch requests (broadcast_batch.go).
	SingleBroadcasts bool

	batchMu  sync.Mutex
	batchers map[string]*batcher // by slug
	// noBatchRoute is set once the API answered the batch route with 404
	// or 405: it has no such route, and every broadcast goes on its own.
	noBatchRoute atomic.Bool
	// noRenewRoute is set once the API answered the lease route with 404
	// or 405: it cannot renew leases (RenewLeases).
	noRenewRoute atomic.Bool
}

var _ API = (*Client)(nil)

// keepAlive is the transport of the daemon's clients (the API, the
// approval service). The daemon keeps many requests in flight from its
// workers: their connections are kept for the next request instead of the
// default two per host, past which each request would open (and the
// server accept) a connection of its own.
func keepAlive() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 128
	return tr
}

// NewClient returns a client of the API at baseURL (e.g. http://127.0.0.1:8700)
// authenticating with apiKey. The key is sent as X-API-Key and never logged.
func NewClient(baseURL, apiKey string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: api url must be an http(s) URL", ErrConfig)
	}
	if apiKey == "" {
		return nil, fmt.Errorf("%w: api key is empty (set CUSTOS_API_KEY)", ErrConfig)
	}
	return &Client{
		base:       u,
		apiKey:     apiKey,
		HTTP:       &http.Client{Timeout: 60 * time.Second, Transport: keepAlive(), CheckRedirect: httpguard.NoRedirects},
		Retries:    4,
		Backoff:    250 * time.Millisecond,
		MaxBackoff: 10 * time.Second,
		MaxAnswer:  DefaultMaxAnswer,
	}, nil
}

// Plaintext reports whether the API is reached over http:// on another host,
// where the API key and the transactions cross the network in clear.
func (c *Client) Plaintext() bool { return httpguard.Plaintext(c.base) }

// Pending implements API.
func (c *Client) Pending(ctx context.Context, chain string, ids []string, limit int) ([]PendingTx, error) {
	var raw pendingAnswer
	body := struct {
		SignatureIDs []string `json:"signatureIds"`
		SignerID     string   `json:"signerId,omitempty"`
		LeaseSeconds int      `json:"leaseSeconds,omitempty"`
		Limit        int      `json:"limit,omitempty"`
	}{SignatureIDs: ids}
	if c.SignerID != "" {
		// The limit belongs to a claim: a plain request stays Tatum's.
		body.SignerID, body.LeaseSeconds, body.Limit = c.SignerID, c.LeaseSeconds, max(0, limit)
	}
	if err := c.do(ctx, http.MethodPost, "/v3/kms/pending/"+url.PathEscape(chain), body, &raw); err != nil {
		return nil, err
	}
	txs := make([]PendingTx, 0, len(raw.txs))
	for i, r := range raw.txs {
		tx, err := parsePending(r, false)
		tx.QueuedBy = raw.keyID
		if err != nil && tx.bad != nil {
			// Refused, not signed, and reported as failed under its id.
			txs = append(txs, tx)
			continue
		}
		if err != nil {
			// One bad element must not stop the others from being signed.
			c.logger().Warn("skipping malformed pending transaction", "chain", chain, "position", i, "error", err)
			continue
		}
		txs = append(txs, tx)
	}
	return txs, nil
}

// pendingAnswer is a pending answer's transactions and the API key id its
// header names (every transaction of the answer was queued by that key).
type pendingAnswer struct {
	txs   []json.RawMessage
	keyID string
}

func (a *pendingAnswer) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &a.txs) }

func (a *pendingAnswer) header(h http.Header) {
	if id := h.Get(approval.HeaderAPIKeyID); approval.ValidID(id) {
		a.keyID = id
	}
}

// broadcastOne submits one signed transaction through POST /v3/{slug}/broadcast.
func (c *Client) broadcastOne(ctx context.Context, slug, txData, id string) (string, error) {
	body := struct {
		TxData      string `json:"txData"`
		SignatureID string `json:"signatureId"`
	}{txData, id}
	var out struct {
		TxID string `json:"txId"`
	}
	if err := c.do(ctx, http.MethodPost, broadcastPath(slug), body, &out); err != nil {
		return "", err
	}
	return out.TxID, nil
}

// ReportErrors implements API. The reports go ReportChunk at a time, each
// error cut to what the API keeps, so that no request passes the route's
// body cap; the first failing chunk ends the call.
func (c *Client) ReportErrors(ctx context.Context, errs []TxError) error {
	for chunk := range slices.Chunk(errs, ReportChunk) {
		body := struct {
			Errors []TxError `json:"errors"`
		}{make([]TxError, len(chunk))}
		for i, e := range chunk {
			if len(e.Error) > maxReportError {
				e.Error = e.Error[:maxReportError]
			}
			body.Errors[i] = e
		}
		if err := c.do(ctx, http.MethodPost, "/v3/tatum/kms/batch", body, nil); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	payload, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.retrying(ctx, method, path, retryable, func() error { return c.once(ctx, method, path, payload, out) })
}

// retrying calls attempt until it succeeds, fails in a way again says is
// final, ctx ends or Retries more attempts failed, with jittered exponential
// backoff between attempts.
func (c *Client) retrying(ctx context.Context, method, path string, again func(error) bool, attempt func() error) error {
	delay := c.Backoff
	for n := 0; ; n++ {
		err := attempt()
		if err == nil || n >= c.Retries || !again(err) || ctx.Err() != nil {
			return err
		}
		// Full jitter keeps many daemons from retrying in lockstep.
		wait := delay/2 + rand.N(delay/2+1)
		c.logger().Warn("api request failed, retrying", "method", method, "path", path, "attempt", n+1, "in", wait.String(), "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		delay = min(delay*2, c.MaxBackoff)
	}
}

func retryable(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Temporary()
	}
	// Network errors and per-attempt timeouts are retried; the caller's own
	// context ending is checked by the loop. An answer that could not be
	// decoded or was too long would be the same again.
	return !errors.Is(err, errBadAnswer) && !errors.Is(err, httpguard.ErrTooLarge)
}

// errBadAnswer marks a 2xx answer whose body could not be decoded: retrying would not help.
var errBadAnswer = errors.New("malformed API answer")

func (c *Client) once(ctx context.Context, method, path string, payload []byte, out any) error {
	u := *c.base
	u.Path = c.base.Path + path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-API-Key", c.apiKey)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		// *url.Error quotes the URL, which may carry credentials: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var body errorBody
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if json.Unmarshal(b, &body) != nil {
			body = errorBody{}
		}
		return body.httpError(method, path, resp.StatusCode)
	}
	if h, ok := out.(interface{ header(http.Header) }); ok {
		h.header(resp.Header)
	}
	limit := c.MaxAnswer
	if l, ok := out.(interface{ maxAnswer() int64 }); ok {
		limit = min(limit, l.maxAnswer())
	}
	body := httpguard.Limit(resp.Body, limit)
	if out == nil {
		_, err := io.Copy(io.Discard, body)
		if errors.Is(err, httpguard.ErrTooLarge) {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		return nil
	}
	if err := json.NewDecoder(body).Decode(out); err != nil {
		if errors.Is(err, httpguard.ErrTooLarge) {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		return fmt.Errorf("%s %s: %w: %v", method, path, errBadAnswer, err)
	}
	return nil
}

// maxErrorBody caps what is read of an error answer's body.
const maxErrorBody = 64 << 10

// errorBody is the API's error body, of an error answer or of one item of a
// batch answer.
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	ErrorCode  string `json:"errorCode"`
	Message    string `json:"message"`
}

// httpError is the error of the request method path answered with status
// and this body.
func (b errorBody) httpError(method, path string, status int) *HTTPError {
	return &HTTPError{Method: method, Path: path, Status: status, Code: b.ErrorCode, Message: truncate(b.Message, 300)}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
