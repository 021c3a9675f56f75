package e2e

import (
	"context"
	"crypto/rand"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/chain/evm"
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
	const wallets, pending = 10_000, 1_000

	// 10,000 wallets; the 1,000 senders among them are funded in genesis.
	entries := make([]walletstore.Entry, wallets)
	senders := make([]managed, pending)
	alloc := []common.Address{}
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
		e := entries[(i*7)%wallets]
		senders[i] = managed{sigID: e.ID, addr: common.HexToAddress(e.Wallet.Address)}
		alloc = append(alloc, senders[i].addr)
	}
	c := startDevChain(b, alloc...)
	s := newStack(b, c.URL())
	if err := s.wallets.PutMany(context.Background(), entries); err != nil {
		b.Fatal(err)
	}
	if _, err := s.keys.List(context.Background()); err != nil {
		b.Fatal(err)
	}
	d := s.newDaemon(s.client(), nil)
	payee := randomAddress(b)

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
