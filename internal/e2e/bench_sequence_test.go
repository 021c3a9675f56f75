package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/postgres"
	"github.com/custoskms/custos/internal/pending/postgres/pgtest"
	"github.com/custoskms/custos/internal/walletstore"
)

const (
	benchOneSender = 1_000 // transfers from the one sender per op
	benchClients   = 32    // concurrent queueing clients (end to end)
)

// readmeTransfer is a transfer in the README's Tatum form: no nonce, gas or
// gas price; the server allocates the nonce and completes the rest.
func readmeTransfer(w managed) string {
	return fmt.Sprintf(`{"from":"%s","to":"0x00000000000000000000000000000000c0ffee03","value":"1","chainId":%d}`, w.addr.Hex(), chainID)
}

// BenchmarkQueueOneSender measures POST /v3/kms for one hot wallet: 1,000
// Tatum-form transfers without nonce from ONE sender, queued by 16 or 64
// concurrent clients through the real API over HTTP on loopback with its
// SQLite file store, completed from a JSON-RPC node double that answers each
// call after 5 ms (a remote node's round trip). queue-req/s is reported; the
// stored nonces are then checked to be 0..999, each once (outside the timer).
func BenchmarkQueueOneSender(b *testing.B) {
	for _, clients := range []int{16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchmarkQueueOneSender(b, clients) })
	}
}

// BenchmarkQueueOneSenderPostgres is BenchmarkQueueOneSender on a
// PostgreSQL store (CUSTOS_TEST_POSTGRES; skipped without it).
func BenchmarkQueueOneSenderPostgres(b *testing.B) {
	for _, clients := range []int{16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			node := newNodeDouble(b)
			node.Delay = 5 * time.Millisecond
			runQueueOneSender(b, newPostgresAPI(b, node.srv.URL), clients)
		})
	}
}

// newPostgresAPI is the API over HTTP on a fresh PostgreSQL schema with the
// ETH testnet node at nodeURL: a stack with no wallets, daemon or chain client.
func newPostgresAPI(b *testing.B, nodeURL string) *stack {
	ctx := context.Background()
	st, err := postgres.Open(ctx, pgtest.NewSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	secret, hash, err := api.NewAPIKey()
	if err != nil {
		b.Fatal(err)
	}
	k, err := st.CreateKey(ctx, "bench", true, pending.AllScopes, hash)
	if err != nil {
		b.Fatal(err)
	}
	nodes, err := broadcast.Dial([]broadcast.NodeSpec{{Chain: "ETH", Testnet: true, URL: nodeURL}}, chains.Dialer)
	if err != nil {
		b.Fatal(err)
	}
	s := &stack{t: b, tenant: k.ID, apiKey: secret}
	s.srv = httptest.NewServer(api.New(api.Config{Store: st, Nodes: nodes, Logger: testLogger(b),
		ExtraChainIDs: map[bool]map[string][]uint64{true: {"ETH": {chainID}}}}))
	b.Cleanup(s.srv.Close)
	return s
}

func benchmarkQueueOneSender(b *testing.B, clients int) {
	node := newNodeDouble(b)
	node.Delay = 5 * time.Millisecond
	runQueueOneSender(b, newStack(b, node.srv.URL), clients)
}

func runQueueOneSender(b *testing.B, s *stack, clients int) {
	var queued, elapsed float64
	for b.Loop() {
		b.StopTimer()
		w := managed{sigID: walletstore.NewID(), addr: randomAddress(b)} // a fresh sender: nonces from 0
		b.StartTimer()
		start := time.Now()
		ids := s.queueConcurrently(w, readmeTransfer(w), benchOneSender, clients)
		took := time.Since(start)
		b.StopTimer()
		seen := make([]bool, benchOneSender)
		for _, id := range ids {
			n := s.storedNonce(id)
			if n >= benchOneSender || seen[n] {
				b.Fatalf("nonce %d out of 0..%d or handed out twice", n, benchOneSender-1)
			}
			seen[n] = true
		}
		queued += benchOneSender
		elapsed += took.Seconds()
		b.StartTimer()
	}
	b.ReportMetric(queued/elapsed, "queue-req/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkOneSenderMined measures one hot wallet end to end on the dev
// chain, in one process: 1,000 Tatum-form transfers without nonce from ONE
// sender, queued by 32 concurrent clients (the API completes each from the
// dev chain), signed by the daemon and broadcast through the API; the clock
// runs from the first queue request until the sender's mined nonce reaches
// 1,000. mined-tx/s is reported.
func BenchmarkOneSenderMined(b *testing.B) {
	funder := newFunder(b)
	c := startDevChain(b, crypto.PubkeyToAddress(funder.PublicKey))
	s := newStack(b, c.URL())
	d := s.newDaemon(s.client(), nil)
	var mined, elapsed, queueElapsed float64
	for b.Loop() {
		b.StopTimer()
		w := s.addPrivateKeyWallet()
		s.sendDirect(funder, &w.addr, ether(10), nil, 21000)
		if _, err := s.keys.List(context.Background()); err != nil { // the daemon's wallet list is warm
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		s.queueConcurrently(w, readmeTransfer(w), benchOneSender, benchClients)
		queueTook := time.Since(start)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		for {
			sum, err := d.RunOnce(ctx)
			if err != nil {
				b.Fatalf("daemon run: %v", err)
			}
			if sum.Pending == 0 && s.nonce(w.addr) >= benchOneSender {
				break
			}
			select {
			case <-ctx.Done():
				b.Fatalf("not mined: last run %+v, sender's nonce %d", sum, s.nonce(w.addr))
			case <-time.After(5 * time.Millisecond):
			}
		}
		cancel()
		took := time.Since(start)
		b.StopTimer()
		if got := s.nonce(w.addr); got != benchOneSender {
			b.Fatalf("sender's mined nonce %d, want %d", got, benchOneSender)
		}
		mined += benchOneSender
		elapsed += took.Seconds()
		queueElapsed += queueTook.Seconds()
		b.StartTimer()
	}
	b.ReportMetric(mined/elapsed, "mined-tx/s")
	b.ReportMetric(mined/queueElapsed, "queue-req/s")
	b.ReportMetric(0, "ns/op")
}
