package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/sqlite"
)

const tenant = "aaaaaaaaaaaaaaaaaaaaaaaa"

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// hit is one request a test receiver got.
type hit struct {
	eventID, hash string
	body          []byte
}

// receiver records what it gets and answers answer(n) to the n-th request (from 0).
type receiver struct {
	mu     sync.Mutex
	hits   []hit
	answer func(n int, h hit) int
	srv    *httptest.Server
}

func newReceiver(t *testing.T, answer func(n int, h hit) int) *receiver {
	r := &receiver{answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		h := hit{eventID: req.Header.Get("X-Custos-Event-Id"), hash: req.Header.Get("x-payload-hash"), body: body}
		if req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content-type %q", req.Header.Get("Content-Type"))
		}
		r.mu.Lock()
		n := len(r.hits)
		r.hits = append(r.hits, h)
		r.mu.Unlock()
		w.WriteHeader(r.answer(n, h))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

func always(code int) func(int, hit) int { return func(int, hit) int { return code } }

// run starts a worker over s until the test ends.
func run(t *testing.T, s Store, cfg Config) {
	t.Helper()
	cfg.Store = s
	if cfg.Poll == 0 {
		cfg.Poll = 10 * time.Millisecond
	}
	if cfg.BaseDelay == 0 {
		cfg.BaseDelay = 20 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		New(cfg).Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// complete queues and completes a transaction, returning its id.
func complete(t *testing.T, s pending.Store, txID string) string {
	t.Helper()
	ctx := context.Background()
	ids, err := s.Create(ctx, tenant, pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{"00000000-0000-4000-8000-000000000001"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, tenant, ids[0], txID); err != nil {
		t.Fatal(err)
	}
	return ids[0]
}

func subscribe(t *testing.T, s pending.Store, typ, url string) {
	t.Helper()
	if _, err := s.CreateSubscription(context.Background(), tenant, typ, url); err != nil {
		t.Fatal(err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDeliversSignedBody(t *testing.T) {
	s := openStore(t)
	const secret = "c354b83b-d31b-4dda-9bab-d6a67715a1ed"
	if err := s.SetHMACSecret(context.Background(), tenant, secret); err != nil {
		t.Fatal(err)
	}
	r := newReceiver(t, always(http.StatusNoContent))
	subscribe(t, s, pending.EventCompleted, r.srv.URL+"/hook")
	id := complete(t, s, "0xfeed000001")
	run(t, s, Config{Guard: Guard{AllowLoopback: true}})
	eventually(t, "the delivery", func() bool { return len(r.got()) == 1 })
	h := r.got()[0]
	if want := `{"signatureId":"` + id + `","txId":"0xfeed000001","subscriptionType":"KMS_COMPLETED_TX"}`; string(h.body) != want {
		t.Fatalf("body %s, want %s", h.body, want)
	}
	// The receiver's own check, as Tatum tells receivers to make it.
	m := hmac.New(sha512.New, []byte(secret))
	m.Write(h.body)
	got, err := base64.StdEncoding.DecodeString(h.hash)
	if err != nil || !hmac.Equal(got, m.Sum(nil)) {
		t.Fatalf("x-payload-hash %q does not verify", h.hash)
	}
	if len(h.eventID) != 24 {
		t.Fatalf("event id %q", h.eventID)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(r.got()); n != 1 {
		t.Fatalf("a delivered event was sent %d times", n)
	}
}

func TestNoSecretNoHash(t *testing.T) {
	s := openStore(t)
	r := newReceiver(t, always(http.StatusOK))
	subscribe(t, s, pending.EventCompleted, r.srv.URL)
	complete(t, s, "0xfeed000001")
	run(t, s, Config{Guard: Guard{AllowLoopback: true}})
	eventually(t, "the delivery", func() bool { return len(r.got()) == 1 })
	if h := r.got()[0].hash; h != "" {
		t.Fatalf("x-payload-hash %q without a secret", h)
	}
}

// A receiver down for a while, then up: the event arrives, every attempt
// with the same event id, spaced by a growing backoff.
func TestReceiverDownThenUp(t *testing.T) {
	s := openStore(t)
	var (
		mu    sync.Mutex
		times []time.Time
	)
	r := newReceiver(t, func(n int, _ hit) int {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		if n < 4 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	subscribe(t, s, pending.EventCompleted, r.srv.URL)
	complete(t, s, "0xfeed000001")
	run(t, s, Config{Guard: Guard{AllowLoopback: true}, BaseDelay: 40 * time.Millisecond})
	eventually(t, "the delivery", func() bool { return len(r.got()) == 5 })
	hits := r.got()
	for _, h := range hits {
		if h.eventID != hits[0].eventID {
			t.Fatalf("attempts carry event ids %q and %q", hits[0].eventID, h.eventID)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// The 4th retry waits at least half of 40ms·2³.
	if gap := times[4].Sub(times[3]); gap < 160*time.Millisecond {
		t.Fatalf("the 4th retry came %v after the 3rd: no backoff", gap)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(r.got()); n != 5 {
		t.Fatalf("%d requests after delivery", n)
	}
	if dl, _ := s.DeadLetters(context.Background(), tenant); len(dl) != 0 {
		t.Fatalf("dead letters %+v", dl)
	}
}

func TestDeadLetterAfterMaxAttempts(t *testing.T) {
	s := openStore(t)
	r := newReceiver(t, always(http.StatusInternalServerError))
	subscribe(t, s, pending.EventCompleted, r.srv.URL)
	complete(t, s, "0xfeed000001")
	run(t, s, Config{Guard: Guard{AllowLoopback: true}, MaxAttempts: 3, BaseDelay: 5 * time.Millisecond})
	dl := waitDeadLetter(t, s)
	if dl[0].Attempts != 3 || !strings.Contains(dl[0].LastError, "500") {
		t.Fatalf("dead letter %+v", dl[0])
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(r.got()); n != 3 {
		t.Fatalf("receiver got %d attempts, want 3", n)
	}
}

// Events of one transaction reach a receiver in order: while the first is
// being retried the second waits.
func TestOrderPerTransaction(t *testing.T) {
	s := openStore(t)
	r := newReceiver(t, func(n int, _ hit) int {
		if n < 3 {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	subscribe(t, s, pending.EventFailed, r.srv.URL)
	subscribe(t, s, pending.EventCompleted, r.srv.URL)
	ctx := context.Background()
	ids, err := s.Create(ctx, tenant, pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{"00000000-0000-4000-8000-000000000001"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordErrors(ctx, tenant, []pending.TxError{{ID: ids[0], Message: "approval timeout"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, tenant, ids[0], "0xfeed000001"); err != nil {
		t.Fatal(err)
	}
	run(t, s, Config{Guard: Guard{AllowLoopback: true}, Concurrency: 4})
	eventually(t, "both events", func() bool { return len(r.got()) == 5 })
	var types []string
	for _, h := range r.got() {
		types = append(types, strings.Split(string(h.body), `"subscriptionType":`)[1])
	}
	want := []string{`"KMS_FAILED_TX"}`, `"KMS_FAILED_TX"}`, `"KMS_FAILED_TX"}`, `"KMS_FAILED_TX"}`, `"KMS_COMPLETED_TX"}`}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Fatalf("receiver saw %v", types)
	}
}

// A worker that died holding a delivery: once its lease runs out another
// sends it, with the same event id.
func TestRedeliveryAfterLeaseKeepsEventID(t *testing.T) {
	s := openStore(t)
	r := newReceiver(t, always(http.StatusOK))
	subscribe(t, s, pending.EventCompleted, r.srv.URL)
	complete(t, s, "0xfeed000001")
	held, err := s.ClaimDeliveries(context.Background(), pending.DeliveryClaim{Owner: "dead", Lease: 300 * time.Millisecond, Max: 10})
	if err != nil || len(held) != 1 {
		t.Fatalf("claim %v %v", held, err)
	}
	run(t, s, Config{Guard: Guard{AllowLoopback: true}})
	time.Sleep(150 * time.Millisecond)
	if n := len(r.got()); n != 0 {
		t.Fatalf("a leased delivery was sent while its lease ran")
	}
	eventually(t, "the redelivery", func() bool { return len(r.got()) == 1 })
	if got := r.got()[0].eventID; got != held[0].EventID {
		t.Fatalf("redelivered with event id %q, first claimed as %q", got, held[0].EventID)
	}
}

// A receiver URL that reaches loopback is refused when the connection is
// dialed (a name may resolve elsewhere than at subscription time), and the
// receiver never sees the request.
func TestPrivateAddressRefusedAtDial(t *testing.T) {
	s := openStore(t)
	r := newReceiver(t, always(http.StatusOK))
	subscribe(t, s, pending.EventCompleted, strings.Replace(r.srv.URL, "127.0.0.1", "localhost", 1))
	complete(t, s, "0xfeed000001")
	run(t, s, Config{MaxAttempts: 2, BaseDelay: 5 * time.Millisecond})
	dl := waitDeadLetter(t, s)
	if !strings.Contains(dl[0].LastError, "refused") {
		t.Fatalf("last error %q", dl[0].LastError)
	}
	if n := len(r.got()); n != 0 {
		t.Fatalf("the receiver on loopback got %d requests", n)
	}
}

// Redirects are not followed: a 3xx is a failed attempt.
func TestRedirectNotFollowed(t *testing.T) {
	s := openStore(t)
	target := newReceiver(t, always(http.StatusOK))
	var redirects int
	var mu sync.Mutex
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		redirects++
		mu.Unlock()
		http.Redirect(w, req, target.srv.URL, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirect.Close)
	subscribe(t, s, pending.EventCompleted, redirect.URL)
	complete(t, s, "0xfeed000001")
	run(t, s, Config{Guard: Guard{AllowLoopback: true}, MaxAttempts: 1})
	eventually(t, "the dead letter", func() bool {
		dl, _ := s.DeadLetters(context.Background(), tenant)
		return len(dl) == 1 && strings.Contains(dl[0].LastError, "307")
	})
	if n := len(target.got()); n != 0 {
		t.Fatalf("the redirect was followed")
	}
}

// waitDeadLetter waits for the tenant's one dead letter.
func waitDeadLetter(t *testing.T, s pending.Store) []pending.DeadLetter {
	t.Helper()
	var dl []pending.DeadLetter
	eventually(t, "the dead letter", func() bool {
		dl, _ = s.DeadLetters(context.Background(), tenant)
		return len(dl) == 1
	})
	return dl
}

func TestBackoff(t *testing.T) {
	for n := 1; n <= 40; n++ {
		want := time.Hour
		if n <= 8 {
			want = 15 * time.Second << (n - 1)
		}
		for range 20 {
			got := Backoff(15*time.Second, time.Hour, n)
			if got < want/2 || got > want {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", n, got, want/2, want)
			}
		}
	}
}
