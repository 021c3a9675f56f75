package replicas

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending/postgres/pgtest"
	"github.com/custoskms/custos/internal/webhook"
)

// webhookArgs shorten the delivery worker's timings so that a test waits
// seconds, not the production minutes: a receiver has 1 s to answer (a
// killed replica's leases run out after 2 × 1 s + 10 s), and a failed
// attempt is retried after 200 ms, doubling up to 1 s.
var webhookArgs = []string{"--webhook-allow-private", "--webhook-timeout", "1s",
	"--webhook-retry-delay", "200ms", "--webhook-retry-max", "1s"}

// TestWebhooksSurviveKills: 500 events wait in the outbox while their
// receiver is down (it answers 503 for 3 s, so every delivery fails and is
// retried with backoff); the receiver comes back slow, and mid-delivery the
// `custos serve` process is SIGKILLed and restarted on the same store
// (SQLite, PostgreSQL), or, with two replicas on one PostgreSQL, one of them
// is SIGKILLed and the other carries on. Every event reaches the receiver,
// each of its copies with the same event id, body and signature, and while
// no replica had died no event was sent twice (the claims' leases keep
// replicas apart). A second tenant's receiver gets its own events only.
func TestWebhooksSurviveKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes; skipped with -short")
	}
	t.Run("sqlite", func(t *testing.T) {
		webhooksSurviveKill(t, "sqlite:"+filepath.Join(t.TempDir(), "custos.db"), 1)
	})
	t.Run("postgres", func(t *testing.T) { webhooksSurviveKill(t, pgtest.NewSchema(t), 1) })
	t.Run("postgres-2-replicas", func(t *testing.T) { webhooksSurviveKill(t, pgtest.NewSchema(t), 2) })
}

func webhooksSurviveKill(t *testing.T, dbURL string, nReplicas int) {
	const (
		n         = 500
		completed = n / 2 // the first half completed, the rest failed
		secret    = "s3cret"
		downFor   = 3 * time.Second
	)
	start := time.Now()
	c := newClusterOn(t, 1, dbURL)
	c.serveArgs = webhookArgs
	addr := freeAddr(t)
	first := c.startReplicaAt(addr)
	for range nReplicas - 1 {
		c.startReplica()
	}
	rcv := newReceiver(t)
	keyB := c.newAPIKey("tenant B")
	for _, typ := range []string{"KMS_COMPLETED_TX", "KMS_FAILED_TX"} {
		c.subscribe(c.apiKey, typ, rcv.url+"/a")
		c.subscribe(keyB, typ, rcv.url+"/b")
	}
	if err := doJSON(first.url, c.apiKey, "PUT", "/v3/subscription", []byte(`{"hmacSecret":"`+secret+`"}`), nil); err != nil {
		t.Fatal(err)
	}

	// Tenant B's few events, then A's 500, all while the receiver is down.
	idsB := c.queueAs(keyB, c.wallets[:1])
	c.complete(keyB, idsB, 0)
	ws := make([]wallet, n)
	for i := range ws {
		ws[i] = c.wallets[0]
	}
	t0 := time.Now()
	ids := c.queue(ws)
	t1 := time.Now()
	c.complete(c.apiKey, ids[:completed], 0)
	t2 := time.Now()
	c.fail(c.apiKey, ids[completed:], completed)
	t.Logf("queued %d in %v, completed %d in %v, failed %d in %v; refused so far %d", n, t1.Sub(t0), completed, t2.Sub(t1),
		n-completed, time.Since(t2), rcv.refused.Load())
	// Down for at least downFor, and until it refused more attempts than
	// there are events: failed deliveries were retried.
	downAt := time.Now()
	time.Sleep(downFor)
	c.waitFor("more attempts than events while the receiver is down", 20*time.Second, func() bool { return rcv.refused.Load() > n })
	t.Logf("setup and %d events in %v; the receiver refused %d attempts in %v down",
		n+len(idsB), time.Since(start).Round(time.Millisecond), rcv.refused.Load(), time.Since(downAt).Round(time.Millisecond))

	// Back, slow: each answer takes 20 ms, so the kill lands mid-delivery.
	rcv.setUp(20 * time.Millisecond)
	c.waitFor("100 events delivered", 20*time.Second, func() bool { return rcv.distinct("/a") >= 100 })
	kill(t, first)
	c.lb.remove(first.url)
	before := rcv.snapshot()
	if got := rcv.distinct("/a"); got >= n {
		t.Fatalf("every event was delivered before the kill (%d)", got)
	}
	for id, hits := range before {
		if len(hits) > 1 {
			t.Fatalf("event %s sent %d times before any replica died", id, len(hits))
		}
	}
	t.Logf("SIGKILLed %s with %d of %d events of A delivered", first.name, rcv.distinct("/a"), n)
	if nReplicas == 1 {
		c.startReplicaAt(addr)
	}
	rcv.setUp(0)
	killed := time.Now()
	// Every event seen is not enough: a request cut off by the kill was
	// seen, but is delivered only when a worker records its acceptance.
	c.waitFor("every delivery recorded", 40*time.Second, func() bool { return rcv.distinct("/a") == n && c.deliveriesDue() == 0 })
	t.Logf("all delivered %v after the kill", time.Since(killed).Round(time.Millisecond))
	var dead []json.RawMessage
	if err := doJSON(c.replicas[len(c.replicas)-1].url, c.apiKey, "GET", "/v3/subscription/dead-letters", nil, &dead); err != nil || len(dead) != 0 {
		t.Fatalf("dead letters %s (%v), want none", dead, err)
	}
	c.stopAll()

	// Each event of A: one event id per transaction, every copy alike and signed.
	want := map[string]string{}
	for i, id := range ids {
		if i < completed {
			want[id] = fmt.Sprintf(`{"signatureId":"%s","txId":"%s","subscriptionType":"KMS_COMPLETED_TX"}`, id, txIDOf(i))
		} else {
			want[id] = fmt.Sprintf(`{"signatureId":"%s","error":"%s","subscriptionType":"KMS_FAILED_TX"}`, id, errorOf(i))
		}
	}
	got := rcv.snapshot()
	eventOf := map[string]string{}
	dups := 0
	for eventID, hits := range got {
		h := hits[0]
		var body struct{ SignatureID string }
		if err := json.Unmarshal([]byte(h.body), &body); err != nil {
			t.Fatalf("event %s: body %q: %v", eventID, h.body, err)
		}
		if h.path == "/b" {
			if body.SignatureID != idsB[0] {
				t.Fatalf("tenant B's receiver got an event about %s, not B's", body.SignatureID)
			}
			continue
		}
		if w, ok := want[body.SignatureID]; !ok || h.body != w {
			t.Fatalf("event %s: body %s, want %s", eventID, h.body, w)
		}
		if other, ok := eventOf[body.SignatureID]; ok {
			t.Fatalf("%s has two event ids: %s and %s", body.SignatureID, other, eventID)
		}
		eventOf[body.SignatureID] = eventID
		for _, x := range hits {
			if x != h {
				t.Fatalf("event %s delivered as %+v, then as %+v", eventID, h, x)
			}
		}
		if h.hash != webhook.PayloadHash(secret, []byte(h.body)) {
			t.Fatalf("event %s: X-Payload-Hash %q does not verify", eventID, h.hash)
		}
		dups += len(hits) - 1
	}
	if len(eventOf) != n {
		t.Fatalf("%d of %d transactions' events delivered", len(eventOf), n)
	}
	if b := rcv.distinct("/b"); b != len(idsB) {
		t.Fatalf("tenant B's receiver got %d events, want %d", b, len(idsB))
	}
	// With one replica, the requests cut off by the kill were answered to
	// nobody: they come again, or the kill tested nothing. With two, the
	// killed one may have held no delivery at that instant (the survivor
	// claimed them), so copies are possible there, not required.
	if dups == 0 && nReplicas == 1 {
		t.Fatalf("no event was delivered twice: the kill cut off no delivery")
	}
	t.Logf("%d events delivered, %d copies again after the kill, total %v", n, dups, time.Since(start).Round(time.Millisecond))
}

// deliveriesDue counts the deliveries the store still has to make.
func (c *cluster) deliveriesDue() int {
	c.t.Helper()
	const q = `SELECT count(*) FROM deliveries WHERE state = 0`
	var n int
	if path, ok := strings.CutPrefix(c.dbURL, "sqlite:"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			c.t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRow(q).Scan(&n); err != nil {
			c.t.Fatal(err)
		}
		return n
	}
	if err := c.db.QueryRow(context.Background(), q).Scan(&n); err != nil {
		c.t.Fatal(err)
	}
	return n
}

// txIDOf and errorOf are what transaction i is completed or failed with.
func txIDOf(i int) string  { return fmt.Sprintf("0x%064x", i+1) }
func errorOf(i int) string { return fmt.Sprintf("insufficient funds %d", i) }

// subscribe adds a webhook of tenant key.
func (c *cluster) subscribe(key, typ, url string) {
	c.t.Helper()
	body, _ := json.Marshal(map[string]any{"type": typ, "attr": map[string]string{"url": url}})
	var out struct{ ID string }
	if err := doJSON(c.replicas[0].url, key, "POST", "/v3/subscription", body, &out); err != nil {
		c.t.Fatal(err)
	}
}

// complete completes ids[i] with txIDOf(offset+i) through the replicas in turn.
func (c *cluster) complete(key string, ids []string, offset int) {
	c.t.Helper()
	c.parallel(len(ids), func(base string, i int) error {
		return doJSON(base, key, "PUT", "/v3/kms/"+ids[i]+"/"+txIDOf(offset+i), nil, nil)
	})
}

// fail reports a signer's error errorOf(offset+i) about each ids[i].
func (c *cluster) fail(key string, ids []string, offset int) {
	c.t.Helper()
	c.parallel(len(ids), func(base string, i int) error {
		body, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"signatureId": ids[i], "error": errorOf(offset + i)}}})
		return doJSON(base, key, "POST", "/v3/tatum/kms/batch", body, nil)
	})
}

// parallel runs call(replica URL, i) for i in [0, n), eight at a time,
// through the replicas in turn.
func (c *cluster) parallel(n int, call func(base string, i int) error) {
	c.t.Helper()
	c.mu.Lock()
	replicas := append([]*proc{}, c.replicas...)
	c.mu.Unlock()
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		errs = make(chan error, 8)
	)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := call(replicas[i%len(replicas)].url, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		c.t.Fatal(err)
	}
}

// receiver is a webhook receiver on loopback. Down, it answers 503 and
// counts the attempts; up, it records every request by event id when the
// request arrives (so a request cut off by a kill still counts as seen) and
// answers 200 after a delay.
type receiver struct {
	url     string
	refused atomic.Int64
	up      atomic.Bool
	delay   atomic.Int64 // time.Duration

	mu   sync.Mutex
	hits map[string][]hit // by event id
}

// hit is one request as the receiver saw it.
type hit struct{ path, body, hash string }

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{hits: map[string][]hit{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: r}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	r.url = "http://" + ln.Addr().String()
	return r
}

func (r *receiver) setUp(delay time.Duration) {
	r.delay.Store(int64(delay))
	r.up.Store(true)
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	if !r.up.Load() {
		r.refused.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	id := req.Header.Get(webhook.HeaderEventID)
	r.mu.Lock()
	r.hits[id] = append(r.hits[id], hit{req.URL.Path, string(body), req.Header.Get(webhook.HeaderPayloadHash)})
	r.mu.Unlock()
	time.Sleep(time.Duration(r.delay.Load()))
}

// distinct counts the events seen at path.
func (r *receiver) distinct(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, hs := range r.hits {
		if hs[0].path == path {
			n++
		}
	}
	return n
}

func (r *receiver) snapshot() map[string][]hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]hit, len(r.hits))
	for id, hs := range r.hits {
		out[id] = append([]hit{}, hs...)
	}
	return out
}
