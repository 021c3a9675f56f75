package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/tracker"
	"github.com/custoskms/custos/internal/webhook"
)

// hook is one delivery a receiver got.
type hook struct {
	body []byte
	hash string
	v    struct {
		SignatureID      string  `json:"signatureId"`
		TxID             string  `json:"txId"`
		Status           string  `json:"status"`
		BlockNumber      *uint64 `json:"blockNumber"`
		Confirmations    *uint64 `json:"confirmations"`
		Fee              string  `json:"fee"`
		Error            string  `json:"error"`
		ReplacedBy       string  `json:"replacedBy"`
		SubscriptionType string  `json:"subscriptionType"`
	}
}

// TestOutcomeTrackingDevChain follows two transfers from one wallet on the
// dev chain, as `custos dev` runs (depth 1, loopback receivers): a value
// transfer is announced KMS_COMPLETED_TX then KMS_TX_CONFIRMED, an ERC-20
// transfer the token refuses (the wallet holds none) KMS_COMPLETED_TX then
// KMS_TX_FAILED_ONCHAIN with the receipt's status; every body's
// x-payload-hash checks out under the tenant's secret, computed here.
func TestOutcomeTrackingDevChain(t *testing.T) {
	funder := newFunder(t)
	s, w, got, ctx, secret := trackingStack(t, funder, "KMS_COMPLETED_TX", "KMS_TX_CONFIRMED", "KMS_TX_FAILED_ONCHAIN")
	token := s.deployToken(funder, big.NewInt(1_000_000))

	payee := randomAddress(t)
	valueID := s.queue(w, tatumTx(payee, big.NewInt(5_000), nil, 0, 21000), false)
	tokenID := s.queue(w, tatumTx(token, new(big.Int), transferCall(payee, big.NewInt(300)), 1, 100_000), false)
	sum, err := s.newDaemon(s.client(), nil).RunOnce(ctx)
	if err != nil || sum.Submitted != 2 {
		t.Fatalf("daemon run: %+v %v", sum, err)
	}

	byTx := map[string][]hook{}
	deadline := time.After(30 * time.Second)
	for n := 0; n < 4; n++ {
		select {
		case h := <-got:
			byTx[h.v.SignatureID] = append(byTx[h.v.SignatureID], verified(t, secret, h))
		case <-deadline:
			t.Fatalf("%d of 4 deliveries after 30 s: %v", n, byTx)
		}
	}
	for id, want := range map[string][2]string{valueID: {"KMS_COMPLETED_TX", "KMS_TX_CONFIRMED"}, tokenID: {"KMS_COMPLETED_TX", "KMS_TX_FAILED_ONCHAIN"}} {
		hs := byTx[id]
		if len(hs) != 2 || hs[0].v.SubscriptionType != want[0] || hs[1].v.SubscriptionType != want[1] {
			t.Fatalf("%s: deliveries %v, want %v in order", id, hs, want)
		}
		r := s.receipt(ctx, common.HexToHash(hs[0].v.TxID))
		fee := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice).String()
		final := hs[1].v
		if final.TxID != hs[0].v.TxID || final.BlockNumber == nil || *final.BlockNumber != r.BlockNumber.Uint64() ||
			final.Confirmations == nil || *final.Confirmations < 1 || final.Fee != fee {
			t.Fatalf("%s: final event %s, want block %d and fee %s", id, hs[1].body, r.BlockNumber, fee)
		}
		var detail struct {
			Status      string  `json:"status"`
			BlockNumber *uint64 `json:"blockNumber"`
			Fee         string  `json:"fee"`
			Error       string  `json:"error"`
		}
		s.apiDo(http.MethodGet, "/v3/kms/"+id, nil, &detail)
		switch id {
		case valueID:
			if final.Status != "confirmed" || r.Status != 1 || detail.Status != "confirmed" || detail.Fee != fee {
				t.Fatalf("value transfer: event %s, GET %+v, receipt status %d", hs[1].body, detail, r.Status)
			}
		case tokenID:
			if final.Status != "failed" || r.Status != 0 || detail.Status != "failed" || final.Error == "" || detail.Error != final.Error {
				t.Fatalf("reverted transfer: event %s, GET %+v, receipt status %d", hs[1].body, detail, r.Status)
			}
		}
	}
}

// trackingStack is `custos dev`'s outcome tracking on the dev chain (depth
// 1, loopback receivers): a stack with a funded private-key wallet, a
// receiver subscribed to types under an HMAC secret, whose deliveries come
// on got, and the webhook worker and the tracker running until ctx ends.
func trackingStack(t *testing.T, funder *ecdsa.PrivateKey, types ...string) (s *stack, w managed, got chan hook, ctx context.Context, secret string) {
	t.Helper()
	c := startDevChain(t, crypto.PubkeyToAddress(funder.PublicKey))
	guard := webhook.Guard{AllowLoopback: true}
	specs := []broadcast.NodeSpec{{Chain: "ETH", Testnet: true, URL: c.URL()}}
	s = newStackWith(t, c.URL(), func(cfg *api.Config) { cfg.Webhooks = guard })
	w = s.addPrivateKeyWallet()
	s.sendDirect(funder, &w.addr, ether(1), nil, 21000)

	got = make(chan hook, 16)
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var h hook
		h.body, _ = io.ReadAll(r.Body)
		h.hash = r.Header.Get("x-payload-hash")
		if err := json.Unmarshal(h.body, &h.v); err != nil {
			t.Errorf("body %s: %v", h.body, err)
		}
		got <- h
	}))
	t.Cleanup(recv.Close)
	secret = "tracking secret"
	if code := s.apiDo(http.MethodPut, "/v3/subscription", map[string]string{"hmacSecret": secret}, nil); code != http.StatusNoContent {
		t.Fatalf("PUT /v3/subscription: %d", code)
	}
	for _, typ := range types {
		body := map[string]any{"type": typ, "attr": map[string]string{"url": recv.URL}}
		if code := s.apiDo(http.MethodPost, "/v3/subscription", body, nil); code != http.StatusOK {
			t.Fatalf("POST /v3/subscription %s: %d", typ, code)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	nodes, err := broadcast.Dial(specs, chains.Dialer)
	if err != nil {
		t.Fatal(err)
	}
	runUntilCancel(t, ctx, webhook.New(webhook.Config{Store: s.pstore, Guard: guard, Poll: 10 * time.Millisecond, Logger: testLogger(t)}).Run)
	runUntilCancel(t, ctx, tracker.New(tracker.Config{Store: s.pstore, Nodes: nodes, Depth: map[string]uint64{"ETH": 1},
		Poll: 10 * time.Millisecond, BaseDelay: 10 * time.Millisecond, Logger: testLogger(t)}).Run)
	return s, w, got, ctx, secret
}

// verified checks a delivery's x-payload-hash under secret, computed here.
func verified(t *testing.T, secret string, h hook) hook {
	t.Helper()
	want := base64.StdEncoding.EncodeToString(hmacSHA512(secret, h.body))
	if h.hash != want {
		t.Fatalf("x-payload-hash %q of %s, want %q", h.hash, h.body, want)
	}
	return h
}

func hmacSHA512(secret string, body []byte) []byte {
	m := hmac.New(sha512.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

// runUntilCancel runs f in the background; the test waits for it to return
// after ctx is cancelled.
func runUntilCancel(t *testing.T, ctx context.Context, f func(context.Context)) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func (h hook) String() string { return string(h.body) }

// TestOutcomeRebroadcastDevChain: a transfer the node accepted and then
// lost from its pool (the dev chain's pool dropped while sealing is paused,
// as a node restarted without its pool) is broadcast again by the tracker
// from its stored signed bytes, since its nonce is still free, and
// announced as KMS_TX_CONFIRMED with the same txId once mined.
func TestOutcomeRebroadcastDevChain(t *testing.T) {
	funder := newFunder(t)
	c := startDevChain(t, crypto.PubkeyToAddress(funder.PublicKey))
	guard := webhook.Guard{AllowLoopback: true}
	s := newStackWith(t, c.URL(), func(cfg *api.Config) { cfg.Webhooks = guard })
	w := s.addPrivateKeyWallet()
	s.sendDirect(funder, &w.addr, ether(1), nil, 21000)
	got := make(chan hook, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var h hook
		h.body, _ = io.ReadAll(r.Body)
		if err := json.Unmarshal(h.body, &h.v); err != nil {
			t.Errorf("body %s: %v", h.body, err)
		}
		got <- h
	}))
	t.Cleanup(recv.Close)
	body := map[string]any{"type": "KMS_TX_CONFIRMED", "attr": map[string]string{"url": recv.URL}}
	if code := s.apiDo(http.MethodPost, "/v3/subscription", body, nil); code != http.StatusOK {
		t.Fatalf("POST /v3/subscription: %d", code)
	}

	ctx := t.Context()
	resume := c.Pause()
	defer resume()
	id := s.queue(w, tatumTx(randomAddress(t), big.NewInt(5_000), nil, 0, 21000), false)
	if sum, err := s.newDaemon(s.client(), nil).RunOnce(ctx); err != nil || sum.Submitted != 1 {
		t.Fatalf("daemon run: %+v %v", sum, err)
	}
	txID := s.get(id).TxID
	if n, err := c.Pending(ctx); err != nil || n != 1 {
		t.Fatalf("pool after the broadcast: %d %v, want the transfer", n, err)
	}
	c.DropPool()
	if n, err := c.Pending(ctx); err != nil || n != 0 {
		t.Fatalf("pool after dropping it: %d %v", n, err)
	}
	resume()

	nodes, err := broadcast.Dial([]broadcast.NodeSpec{{Chain: "ETH", Testnet: true, URL: c.URL()}}, chains.Dialer)
	if err != nil {
		t.Fatal(err)
	}
	runUntilCancel(t, ctx, webhook.New(webhook.Config{Store: s.pstore, Guard: guard, Poll: 10 * time.Millisecond, Logger: testLogger(t)}).Run)
	runUntilCancel(t, ctx, tracker.New(tracker.Config{Store: s.pstore, Nodes: nodes, Depth: map[string]uint64{"ETH": 1},
		Poll: 10 * time.Millisecond, BaseDelay: 10 * time.Millisecond, Logger: testLogger(t)}).Run)
	var h hook
	select {
	case h = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("no KMS_TX_CONFIRMED within 30 s")
	}
	r := s.receipt(ctx, common.HexToHash(txID))
	if h.v.SignatureID != id || h.v.TxID != txID || h.v.Status != "confirmed" || r.Status != 1 {
		t.Fatalf("event %s for %s (txId %s), receipt status %d", h.body, id, txID, r.Status)
	}
	var detail struct {
		Status       string `json:"status"`
		Rebroadcasts int    `json:"rebroadcasts"`
	}
	if s.apiDo(http.MethodGet, "/v3/kms/"+id, nil, &detail); detail.Status != "confirmed" || detail.Rebroadcasts != 1 {
		t.Fatalf("GET /v3/kms/%s: %+v, want confirmed after one rebroadcast", id, detail)
	}
}
