package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custoskms/custos/internal/httpguard"
	"github.com/custoskms/custos/internal/pending"
)

// Headers of a delivery.
const (
	// HeaderEventID carries the event's stable id: every attempt of an event
	// carries the same one, so a receiver drops a redelivery it already has.
	HeaderEventID = "X-Custos-Event-Id"
	// HeaderPayloadHash is Tatum's digest header: base64 of HMAC-SHA512 of
	// the raw body under the tenant's secret, sent when the tenant set one.
	HeaderPayloadHash = "X-Payload-Hash"
)

// Defaults of Config.
const (
	DefaultConcurrency = 8
	// DefaultTimeout is Tatum's: a receiver answers 2xx within 10 s.
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 10
	// DefaultBaseDelay and DefaultMaxDelay shape the backoff: the n-th
	// retry waits about BaseDelay·2ⁿ⁻¹, at most MaxDelay, so ten attempts
	// span about two hours.
	DefaultBaseDelay = 15 * time.Second
	DefaultMaxDelay  = time.Hour
	DefaultPoll      = 500 * time.Millisecond
	// maxAnswer is how much of a receiver's answer is read (and discarded)
	// so that the connection can be reused; a longer one is cut off.
	maxAnswer = 64 << 10
)

// Store is what the worker needs of the pending store.
type Store interface {
	ClaimDeliveries(ctx context.Context, c pending.DeliveryClaim) ([]pending.Delivery, error)
	Delivered(ctx context.Context, ids ...string) error
	DeliveryFailed(ctx context.Context, owner, id, reason string, retryIn time.Duration, dead bool) error
}

// Config is what a Worker is built from; zero fields take the defaults.
type Config struct {
	Store Store
	Guard Guard
	// Owner names this worker in its leases; several replicas each run one.
	// Empty: a random name.
	Owner string
	// Concurrency bounds the deliveries in flight.
	Concurrency int
	// Timeout bounds one delivery: connecting, sending and the answer's headers.
	Timeout time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is dead-lettered.
	MaxAttempts int
	BaseDelay   time.Duration
	MaxDelay    time.Duration
	// Poll is how long the worker waits when nothing is due.
	Poll   time.Duration
	Logger *slog.Logger
	// Registry receives the worker's metrics (the server's); nil: none.
	Registry prometheus.Registerer
}

// Worker delivers the outbox. Build it with New and run it with Run.
type Worker struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
	m      *metrics
}

// New builds a Worker.
func New(cfg Config) *Worker {
	if cfg.Owner == "" {
		cfg.Owner = "webhook-" + pending.NewID()
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = DefaultBaseDelay
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: cfg.Guard.Control}
	transport := &http.Transport{
		// No proxy: the guard must see the receiver's own address.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   cfg.Concurrency,
		IdleConnTimeout:       90 * time.Second,
	}
	client := &http.Client{Transport: transport, Timeout: cfg.Timeout, CheckRedirect: httpguard.NoRedirects}
	return &Worker{cfg: cfg, client: client, log: log, m: newMetrics(cfg.Registry)}
}

// lease is how long a claimed delivery stays reserved: longer than an attempt
// and its recording take, so that no other replica sends it meanwhile.
func (w *Worker) lease() time.Duration { return 2*w.cfg.Timeout + 10*time.Second }

// Run delivers until ctx ends, then waits for the deliveries in flight (each
// bounded by the timeout) to finish and be recorded, and returns. A delivery
// cut off by a crash is sent again once its lease runs out.
func (w *Worker) Run(ctx context.Context) {
	delivered := make(chan string, w.cfg.Concurrency)
	recorded := make(chan struct{})
	go w.recordDelivered(context.WithoutCancel(ctx), delivered, recorded)
	slots := make(chan struct{}, w.cfg.Concurrency)
	defer func() {
		for range w.cfg.Concurrency { // wait for the deliveries in flight
			slots <- struct{}{}
		}
		close(delivered)
		<-recorded
	}()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		free := 1
	more:
		for free < w.cfg.Concurrency {
			select {
			case slots <- struct{}{}:
				free++
			default:
				break more
			}
		}
		ds, err := w.cfg.Store.ClaimDeliveries(ctx, pending.DeliveryClaim{Owner: w.cfg.Owner, Lease: w.lease(), Max: free})
		if err != nil && ctx.Err() == nil {
			w.log.Error("claiming webhook deliveries failed", "err", err)
		}
		for range free - len(ds) {
			<-slots
		}
		for _, d := range ds {
			go func() {
				defer func() { <-slots }()
				w.deliver(context.WithoutCancel(ctx), d, delivered)
			}()
		}
		// Wait only when nothing was due: a claim that found fewer than it
		// asked for has taken all that was due, but more may have come due
		// since, and waiting then would cap a busy outbox at Concurrency
		// deliveries per Poll.
		if len(ds) == 0 {
			select {
			case <-time.After(w.cfg.Poll):
			case <-ctx.Done():
				return
			}
		}
	}
}

// maxRecord bounds the deliveries recorded in one write.
const maxRecord = 256

// recordDelivered records the ids of accepted deliveries until ids is
// closed. One write records all that arrived while the previous one ran, so
// a busy worker pays one database write per batch instead of one per
// delivery, and an idle one records each at once.
func (w *Worker) recordDelivered(ctx context.Context, ids <-chan string, done chan<- struct{}) {
	defer close(done)
	batch := make([]string, 0, maxRecord)
	for id := range ids {
		batch = append(batch[:0], id)
	drain:
		for len(batch) < maxRecord {
			select {
			case id, ok := <-ids:
				if !ok {
					break drain
				}
				batch = append(batch, id)
			default:
				break drain
			}
		}
		if err := w.cfg.Store.Delivered(ctx, batch...); err != nil {
			// The receivers have them; they will have them again after the lease.
			w.log.Error("recording webhook deliveries failed", "deliveries", len(batch), "err", err)
		}
	}
}

// deliver makes one attempt and records its outcome: an accepted delivery
// goes to delivered for the recorder, a failed one is recorded here.
func (w *Worker) deliver(ctx context.Context, d pending.Delivery, delivered chan<- string) {
	start := time.Now()
	err := w.post(ctx, d)
	if err == nil {
		w.m.attempt(resultDelivered, time.Since(start))
		delivered <- d.ID
		return
	}
	attempts := d.Attempts + 1
	dead := attempts >= w.cfg.MaxAttempts
	result := resultRetried
	if dead {
		result = resultDeadLettered
	}
	w.m.attempt(result, time.Since(start))
	retryIn := Backoff(w.cfg.BaseDelay, w.cfg.MaxDelay, attempts)
	reason := err.Error()
	if len(reason) > 1024 {
		reason = reason[:1024]
	}
	w.log.Warn("webhook delivery failed", "delivery", d.ID, "event", d.EventID, "url", redact(d.URL),
		"attempt", attempts, "dead", dead, "retry_in", retryIn.String(), "err", reason)
	if err := w.cfg.Store.DeliveryFailed(ctx, w.cfg.Owner, d.ID, reason, retryIn, dead); err != nil {
		w.log.Error("recording a failed webhook delivery failed", "delivery", d.ID, "err", err)
	}
}

// post sends d's body to its receiver; nil when it answered 2xx.
func (w *Worker) post(ctx context.Context, d pending.Delivery) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return fmt.Errorf("receiver URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "custos-webhook")
	req.Header.Set(HeaderEventID, d.EventID)
	if d.Secret != "" {
		req.Header.Set(HeaderPayloadHash, PayloadHash(d.Secret, d.Body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		var refused *RefusedAddressError
		if errors.As(err, &refused) {
			return refused
		}
		return err
	}
	// Read a bounded part so the connection can be reused; the answer says nothing.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// PayloadHash is Tatum's x-payload-hash: base64(HMAC-SHA512(secret, body)).
func PayloadHash(secret string, body []byte) string {
	m := hmac.New(sha512.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Backoff is the wait before the attempt after the n-th failed one: base·2ⁿ⁻¹
// capped at maxDelay, of which a random half is taken off (jitter), so that
// the retries of many deliveries failing together spread out.
func Backoff(base, maxDelay time.Duration, n int) time.Duration {
	d := maxDelay
	if n < 1 {
		n = 1
	}
	if n <= 32 {
		if e := base << (n - 1); e > 0 && e < maxDelay {
			d = e
		}
	}
	half := d / 2
	return d - half + rand.N(half+1)
}
