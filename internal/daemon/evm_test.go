package daemon

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/vectors"
)

var evmCodes = []string{"ETH", "BSC", "MATIC", "CELO", "ONE", "XDC", "KLAY"}

// The daemon takes every EVM signing vector from pending to submitted with the
// real EVM signer, and submits exactly the reference signed transaction.
func TestDaemonSignsEVMVectors(t *testing.T) {
	for _, testnet := range []bool{false, true} {
		api := newFakeAPI(t)
		keys := newMemKeys()
		want := map[string]string{}
		for _, code := range evmCodes {
			for _, v := range vectors.SigningFor(code) {
				if v.Testnet != testnet || len(v.NodeAnswers) > 0 && string(v.NodeAnswers) != "null" {
					continue
				}
				var exp struct {
					Signed string `json:"signed"`
				}
				if err := json.Unmarshal(v.Expected, &exp); err != nil {
					t.Fatal(err)
				}
				tx := pendingFromVector(t, v)
				if _, dup := want[tx.ID]; dup {
					t.Fatalf("vector id %s twice", tx.ID)
				}
				want[tx.ID] = exp.Signed
				api.add(tx)
				for id, w := range keysFromVector(v).wallets {
					keys.put(w)
					_ = id
				}
			}
		}
		if len(want) == 0 {
			t.Fatalf("testnet=%v: no EVM signing vectors", testnet)
		}
		d, err := New(Config{Chains: evmCodes, Testnet: testnet, LedgerPath: filepath.Join(t.TempDir(), "l.db")}, api.client(), keys)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := d.RunOnce(t.Context())
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		if sum.Submitted != len(want) || sum.Failed != 0 {
			t.Fatalf("testnet=%v: %+v for %d vectors; reported %+v", testnet, sum, len(want), api.errorsReported())
		}
		for id, signed := range want {
			got := api.submitted(id)
			if len(got) != 1 || got[0] != signed {
				t.Errorf("%s: submitted %v\nwant %s", id, got, signed)
			}
		}
		t.Logf("testnet=%v: %d EVM vectors signed and submitted", testnet, len(want))
	}
}

// unsignedEIP1559 is ethers' unsignedSerialized of a type-2 value transfer.
func unsignedEIP1559(chainID uint64, nonce uint64, to [20]byte) string {
	var buf bytes.Buffer
	buf.WriteByte(2)
	_ = rlp.Encode(&buf, []any{
		new(big.Int).SetUint64(chainID), nonce, big.NewInt(1_000_000_000), big.NewInt(30_000_000_000),
		uint64(21000), to[:], big.NewInt(1_000_000_000_000), []byte{}, []any{},
	})
	return "0x" + hex.EncodeToString(buf.Bytes())
}

func TestDaemonRefusesForeignChainIDs(t *testing.T) {
	api := newFakeAPI(t)
	keys := newMemKeys(Wallet{WalletRef: WalletRef{SignatureID: sigPK, Chain: "ETH", Testnet: true}, PrivateKey: testPK})
	to := [20]byte{1, 2, 3}
	api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: unsignedEIP1559(1, 0, to), Hashes: []string{sigPK}})    // mainnet id, testnet wallet
	api.add(PendingTx{ID: txID(2), Chain: "ETH", SerializedTransaction: unsignedEIP1559(1337, 0, to), Hashes: []string{sigPK}}) // dev chain
	api.add(PendingTx{ID: txID(3), Chain: "ETH", SerializedTransaction: unsignedEIP1559(56, 0, to), Hashes: []string{sigPK}})   // BSC's id
	ledger := filepath.Join(t.TempDir(), "l.db")

	d, err := New(Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: ledger}, api.client(), keys)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := d.RunOnce(t.Context())
	d.Close()
	if err != nil || sum.Failed != 3 || sum.Signed != 0 {
		t.Fatalf("without extra ids: %+v %v", sum, err)
	}
	for _, e := range api.errorsReported() {
		// Decoding the intent, before approval and signing, refuses it.
		if !strings.HasPrefix(e.Error, "decode:") || !strings.Contains(e.Error, "chain id") {
			t.Fatalf("report %+v", e)
		}
	}

	// The dev chain's id is configuration: with it, that transaction alone signs.
	d, err = New(Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: ledger,
		ExtraChainIDs: map[string][]uint64{"ETH": {1337}}}, api.client(), keys)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sum, err = d.RunOnce(t.Context())
	if err != nil || sum.Signed != 1 || sum.Failed != 2 || len(api.submitted(txID(2))) != 1 {
		t.Fatalf("with 1337: %+v %v", sum, err)
	}
}

// benchFixture is 10,000 managed private-key wallets and 1,000 pending EIP-1559
// transfers, each from a different wallet.
type benchFixture struct {
	keys *memKeys
	txs  []PendingTx
}

func newBenchFixture(tb testing.TB, wallets, pending int) *benchFixture {
	rnd := rand.NewChaCha8([32]byte{7})
	f := &benchFixture{keys: newMemKeys()}
	ids := make([]string, wallets)
	for i := range wallets {
		pk, err := evm.ETH.GeneratePrivateKey(rnd, true)
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = fmt.Sprintf("b0000000-0000-4000-8000-%012d", i)
		f.keys.put(Wallet{WalletRef: WalletRef{SignatureID: ids[i], Chain: "ETH", Testnet: true}, PrivateKey: pk})
	}
	for i := range pending {
		to := [20]byte{byte(i), byte(i >> 8), 0xee}
		f.txs = append(f.txs, PendingTx{ID: txID(i + 1), Chain: "ETH",
			SerializedTransaction: unsignedEIP1559(11155111, uint64(i), to), Hashes: []string{ids[(i*7)%wallets]}})
	}
	return f
}

// BenchmarkDaemonThroughput measures pending → signed → recorded → submitted →
// completed for 1,000 pending EVM transactions over 10,000 managed keys,
// against an in-process API. Reported as tx/s.
func BenchmarkDaemonThroughput(b *testing.B) {
	const wallets, pending = 10_000, 1_000
	f := newBenchFixture(b, wallets, pending)
	dir := b.TempDir()
	b.ResetTimer()
	var total float64
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		api := newFakeAPI(b)
		for _, tx := range f.txs {
			api.add(tx)
		}
		d, err := New(Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: filepath.Join(dir, fmt.Sprintf("l%d.db", i))}, api.client(), f.keys)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		sum, err := d.RunOnce(b.Context())
		b.StopTimer()
		d.Close()
		api.srv.Close()
		if err != nil || sum.Submitted != pending {
			b.Fatalf("%+v %v", sum, err)
		}
		b.StartTimer()
		total += pending
	}
	b.ReportMetric(total/b.Elapsed().Seconds(), "tx/s")
}
