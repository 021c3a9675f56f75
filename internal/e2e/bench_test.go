package e2e

import (
	"context"
	"crypto/rand"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/broadcast/nodetest"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/walletstore"
)

// BenchmarkDaemonEndToEnd measures the daemon's throughput through the whole
// system, on the dev chain: 1,000 pending EVM transfers, each from a different
// one of 10,000 managed private-key wallets, go pending → signed (ledger
// written) → submitted through the real API → broadcast by the server's node
// client → completed with the node's txId. One op is one daemon run over the
// 1,000; tx/s is reported. Queueing the transactions is outside the timer, and
// the daemon's wallet list is warm, as in a daemon that has run one period.
// mined-tx/s adds the time until every transaction is mined. cpu-ms/tx is
// the CPU time the whole process (daemon, API, SQLite and the embedded node)
// spent per transaction.
func BenchmarkDaemonEndToEnd(b *testing.B) {
	entries, senders := benchWallets(b)
	alloc := make([]common.Address, len(senders))
	for i, w := range senders {
		alloc[i] = w.addr
	}
	c := startDevChain(b, alloc...)
	s := newBenchStack(b, c.URL(), entries)
	d := s.newDaemon(s.client(), nil)
	payee := randomAddress(b)

	const pending = benchPending
	var signed, elapsed, minedElapsed, cpuSum, minedCPUSum float64
	nonce := uint64(0)
	for b.Loop() {
		b.StopTimer()
		ids := make([]string, pending)
		for i, w := range senders {
			ids[i] = s.queue(w, tatumTx(payee, big.NewInt(1), nil, nonce, 21000), false)
		}
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime(b)
		sum, err := d.RunOnce(context.Background())
		took, cpuTook := time.Since(start), cpuTime(b)-cpu0
		b.StopTimer()
		if err != nil || sum.Submitted != pending || sum.Signed != pending {
			b.Fatalf("%+v %v", sum, err)
		}
		// Every transaction mined: each sender's nonce moved past this round.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		for _, w := range senders {
			for {
				n, err := s.node.NonceAt(ctx, w.addr, nil)
				if err != nil {
					b.Fatal(err)
				}
				if n > nonce {
					break
				}
				select {
				case <-ctx.Done():
					b.Fatalf("not mined: %s", w.addr.Hex())
				case <-time.After(5 * time.Millisecond):
				}
			}
		}
		cancel()
		minedTook, minedCPU := time.Since(start), cpuTime(b)-cpu0
		if got := s.get(ids[pending-1]); got.TxID == "" {
			b.Fatal("last transaction not completed")
		}
		signed += pending
		elapsed += took.Seconds()
		minedElapsed += minedTook.Seconds()
		cpuSum += cpuTook.Seconds()
		minedCPUSum += minedCPU.Seconds()
		nonce++
		b.StartTimer()
	}
	b.ReportMetric(signed/elapsed, "tx/s")
	b.ReportMetric(signed/minedElapsed, "mined-tx/s")
	// CPU time of the whole process (daemon, API, SQLite, node) per
	// transaction: on a shared machine it says more than wall time, and
	// cores/cpu-time bounds the rate the cores could sustain.
	b.ReportMetric(cpuSum/signed*1e3, "cpu-ms/tx")
	b.ReportMetric(minedCPUSum/signed*1e3, "mined-cpu-ms/tx")
	b.ReportMetric(0, "ns/op")
}

const benchWalletCount, benchPending = 10_000, 1_000

// benchWallets makes 10,000 managed private-key wallets and picks the 1,000
// senders among them.
func benchWallets(b *testing.B) ([]walletstore.Entry, []managed) {
	entries := make([]walletstore.Entry, benchWalletCount)
	senders := make([]managed, benchPending)
	for i := range entries {
		pk, err := evm.ETH.GeneratePrivateKey(rand.Reader, true)
		if err != nil {
			b.Fatal(err)
		}
		addr, err := evm.ETH.AddressFromPrivateKey(pk, true)
		if err != nil {
			b.Fatal(err)
		}
		entries[i] = walletstore.Entry{ID: walletstore.NewID(), Wallet: &walletstore.Wallet{Chain: "ETH", Testnet: true, PrivateKey: pk, Address: addr}}
	}
	for i := range senders {
		e := entries[(i*7)%benchWalletCount]
		senders[i] = managed{sigID: e.ID, addr: common.HexToAddress(e.Wallet.Address)}
	}
	return entries, senders
}

// newBenchStack is a stack on the node at nodeURL holding entries, with the
// daemon's wallet list warm, as in a daemon that has run one period.
func newBenchStack(b *testing.B, nodeURL string, entries []walletstore.Entry) *stack {
	s := newStack(b, nodeURL)
	if err := s.wallets.PutMany(context.Background(), entries); err != nil {
		b.Fatal(err)
	}
	if _, err := s.keys.List(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkDaemonRealAPI is BenchmarkDaemonEndToEnd with the chain node
// replaced by a double (nodeDouble) that decodes each signed transaction and
// recovers its sender, as a node's admission does, but executes nothing. The
// rest is the real system in one process: the daemon, its ledger, the API
// over HTTP with its SQLite file, and the server's broadcast client speaking
// JSON-RPC to the double. It measures what Custos itself sustains; the
// difference from BenchmarkDaemonEndToEnd is the node's share.
func BenchmarkDaemonRealAPI(b *testing.B) { benchRealAPI(b, nil) }

// benchRealAPI is BenchmarkDaemonRealAPI with the daemon's Config adjusted
// by guard (nil: the defaults), which is given the payee.
func benchRealAPI(b *testing.B, guard func(c *daemon.Config, payee common.Address)) {
	entries, senders := benchWallets(b)
	node := newNodeDouble(b)
	s := newBenchStack(b, node.srv.URL, entries)
	payee := randomAddress(b)
	var edit func(*daemon.Config)
	if guard != nil {
		edit = func(c *daemon.Config) { guard(c, payee) }
	}
	d := s.newDaemon(s.client(), edit)

	var signed, elapsed, cpuSum float64
	nonce := uint64(0)
	for b.Loop() {
		b.StopTimer()
		for _, w := range senders {
			s.queue(w, tatumTx(payee, big.NewInt(1), nil, nonce, 21000), false)
		}
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime(b)
		sum, err := d.RunOnce(context.Background())
		took, cpuTook := time.Since(start), cpuTime(b)-cpu0
		b.StopTimer()
		if err != nil || sum.Submitted != benchPending || sum.Signed != benchPending {
			b.Fatalf("%+v %v", sum, err)
		}
		// Every sender's transaction of this round reached the node, signed by it.
		for _, w := range senders {
			if got := node.nonce(w.addr); got != nonce+1 {
				b.Fatalf("node saw %d transactions of %s, want %d", got, w.addr.Hex(), nonce+1)
			}
		}
		signed += benchPending
		elapsed += took.Seconds()
		cpuSum += cpuTook.Seconds()
		nonce++
		b.StartTimer()
	}
	b.ReportMetric(signed/elapsed, "tx/s")
	b.ReportMetric(cpuSum/signed*1e3, "cpu-ms/tx")
	b.ReportMetric(0, "ns/op")
}

// nodeDouble is nodetest.EVM on a local server: a node's admission (decode,
// chain id, sender recovery, nonce) without execution.
type nodeDouble struct {
	*nodetest.EVM
	srv *httptest.Server
}

func newNodeDouble(t testing.TB) *nodeDouble {
	n := &nodeDouble{EVM: nodetest.NewEVM(chainID, gasPrice.Uint64())}
	n.srv = httptest.NewServer(n.EVM)
	t.Cleanup(n.srv.Close)
	return n
}

func (n *nodeDouble) nonce(a common.Address) uint64 { return n.Nonce(a) }
