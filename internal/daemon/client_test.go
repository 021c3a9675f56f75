package daemon

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/httpguard"
)

// An answer longer than the client's cap is an error naming it, not a
// truncated or unbounded read, and is not asked for again.
func TestClientCapsAnswers(t *testing.T) {
	var calls atomic.Int32
	answer := `[` + strings.Repeat(`{"id":"aaaaaaaaaaaaaaaaaaaaaaaa","chain":"ETH","serializedTransaction":"x","hashes":["h"]},`, 99) +
		`{"id":"aaaaaaaaaaaaaaaaaaaaaaaa","chain":"ETH","serializedTransaction":"x","hashes":["h"]}]`
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(answer))
	}))
	defer api.Close()
	c, err := NewClient(api.URL, "k")
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxAnswer != DefaultMaxAnswer {
		t.Fatalf("MaxAnswer %d, want DefaultMaxAnswer", c.MaxAnswer)
	}
	c.MaxAnswer = int64(len(answer))
	if txs, err := c.Pending(t.Context(), "ETH", []string{"h"}, 0); err != nil || len(txs) != 100 {
		t.Fatalf("an answer of exactly the cap: %d transactions, %v", len(txs), err)
	}
	c.MaxAnswer--
	calls.Store(0)
	_, err = c.Pending(t.Context(), "ETH", []string{"h"}, 0)
	if !errors.Is(err, httpguard.ErrTooLarge) || !strings.Contains(err.Error(), "/v3/kms/pending/ETH") {
		t.Fatalf("an answer one byte over the cap: %v, want ErrTooLarge naming the request", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("an oversize answer was asked for %d times", calls.Load())
	}
	// An answer the client does not decode is capped too.
	c.MaxAnswer = 10
	if err := c.ReportErrors(t.Context(), []TxError{{SignatureID: "a", Error: "x"}}); !errors.Is(err, httpguard.ErrTooLarge) {
		t.Fatalf("an oversize answer to a report: %v", err)
	}
}

// Error reports go in chunks that fit the API's body cap for the route.
func TestClientReportsInChunks(t *testing.T) {
	var sizes []int
	var longest int
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Errors []TxError }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Error(err)
		}
		sizes = append(sizes, len(body.Errors))
		for _, e := range body.Errors {
			longest = max(longest, len(e.Error))
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer api.Close()
	c, err := NewClient(api.URL, "k")
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]TxError, 2*ReportChunk+1)
	for i := range errs {
		errs[i] = TxError{SignatureID: "a", Error: strings.Repeat("<", 10000)}
	}
	if err := c.ReportErrors(t.Context(), errs); err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 3 || sizes[0] != ReportChunk || sizes[2] != 1 || longest != maxReportError {
		t.Fatalf("chunks %v, longest error %d", sizes, longest)
	}
	if err := c.ReportErrors(t.Context(), nil); err != nil || len(sizes) != 3 {
		t.Fatalf("no report sent a request: %v %v", err, sizes)
	}
	// The largest chunk, every error at its longest and escaped, fits the API's cap.
	for i := range errs {
		errs[i].Error = errs[i].Error[:maxReportError]
	}
	b, _ := json.Marshal(struct{ Errors []TxError }{errs[:ReportChunk]})
	if len(b) > 4<<20 {
		t.Fatalf("a chunk of the longest reports takes %d bytes", len(b))
	}
}

func TestClientPlaintext(t *testing.T) {
	for u, want := range map[string]bool{"http://127.0.0.1:8700": false, "https://api.example.com": false, "http://api.example.com": true} {
		c, err := NewClient(u, "k")
		if err != nil || c.Plaintext() != want {
			t.Errorf("%s: Plaintext %v, %v", u, c.Plaintext(), err)
		}
	}
}

// The key the API names in a pending answer becomes each transaction's
// QueuedBy, and a v2 approval request's queuedBy; a malformed one is
// ignored.
func TestClientTakesTheQueuingKey(t *testing.T) {
	const keyID = "65f1c0de0123456789abcdef"
	header := keyID
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(approval.HeaderAPIKeyID, header)
		_, _ = w.Write([]byte(`[{"id":"aaaaaaaaaaaaaaaaaaaaaaaa","chain":"ETH","serializedTransaction":"x","hashes":["h"]}]`))
	}))
	defer api.Close()
	c, err := NewClient(api.URL, "k")
	if err != nil {
		t.Fatal(err)
	}
	txs, err := c.Pending(t.Context(), "ETH", []string{"h"}, 0)
	if err != nil || len(txs) != 1 || txs[0].QueuedBy != keyID {
		t.Fatalf("pending %+v %v, want QueuedBy %s", txs, err, keyID)
	}
	header = "../not-an-id"
	if txs, err := c.Pending(t.Context(), "ETH", []string{"h"}, 0); err != nil || len(txs) != 1 || txs[0].QueuedBy != "" {
		t.Fatalf("pending %+v %v, want no QueuedBy", txs, err)
	}

	var got approval.Request
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := approval.ParseRequest([]byte("s"), r, time.Now(), time.Minute)
		if err != nil {
			t.Error(err)
			return
		}
		got = req
		_ = approval.Respond(w, []byte("s"), req, approval.Approve, "", time.Now())
	}))
	defer svc.Close()
	a, err := NewApprover(ApproverConfig{URL: svc.URL, Secret: []byte("s")})
	if err != nil {
		t.Fatal(err)
	}
	tx := PendingTx{ID: "aaaaaaaaaaaaaaaaaaaaaaaa", Chain: "ETH", SerializedTransaction: "x", Hashes: []string{"h"}, QueuedBy: keyID}
	if err := a.Approve(t.Context(), Subject{Tx: tx, Decoded: true, Intent: intent.Intent{Chain: "ETH", Network: "mainnet"}}); err != nil {
		t.Fatal(err)
	}
	if got.QueuedBy == nil || got.QueuedBy.APIKeyID != keyID {
		t.Fatalf("approval request queuedBy %+v, want %s", got.QueuedBy, keyID)
	}
}
