package daemon

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

const (
	sigPK2  = "0b1e0c3a-0000-4000-8000-000000000004"
	testPK2 = "0x8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63"
)

// addressOf is the address of a hex private key.
func addressOf(t *testing.T, pk string) common.Address {
	t.Helper()
	k, err := crypto.HexToECDSA(strings.TrimPrefix(pk, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	return crypto.PubkeyToAddress(k.PublicKey)
}

// fromSender is a Tatum-format transfer from from with nonce n.
func fromSender(from common.Address, n int) string {
	return fmt.Sprintf(`{"from":"%s","to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","gasPrice":"1000000000","gas":21000,"nonce":%d,"chainId":11155111}`,
		from.Hex(), n)
}

// nonceOrder decodes the signed transactions the API received, in order,
// into each sender's nonces as submitted.
func nonceOrder(t *testing.T, received []string) map[common.Address][]uint64 {
	t.Helper()
	out := map[common.Address][]uint64{}
	signer := types.LatestSignerForChainID(big.NewInt(11155111))
	for _, data := range received {
		raw, err := hexutil.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		var tx types.Transaction
		if err := tx.UnmarshalBinary(raw); err != nil {
			t.Fatal(err)
		}
		from, err := types.Sender(signer, &tx)
		if err != nil {
			t.Fatal(err)
		}
		out[from] = append(out[from], tx.Nonce())
	}
	return out
}

// orderKeys holds the two private-key wallets of the ordering tests.
func orderKeys() *memKeys {
	return newMemKeys(
		Wallet{WalletRef: WalletRef{SignatureID: sigPK, Chain: "ETH", Testnet: true}, PrivateKey: testPK},
		Wallet{WalletRef: WalletRef{SignatureID: sigPK2, Chain: "ETH", Testnet: true}, PrivateKey: testPK2},
	)
}

// A node keeps only a few transactions that arrive ahead of their
// predecessor's nonce, so the daemon submits each sender's transactions in
// nonce order however the API serves them, while it signs many at once: 60
// transfers of each of two senders, served shuffled, reach the API with
// every sender's nonces ascending.
func TestSubmitsEachSenderInNonceOrder(t *testing.T) {
	api := newFakeAPI(t)
	senders := map[string]common.Address{sigPK: addressOf(t, testPK), sigPK2: addressOf(t, testPK2)}
	type queued struct {
		sig string
		n   int
	}
	var all []queued
	for sig := range senders {
		for n := range 60 {
			all = append(all, queued{sig, n})
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for i, q := range all {
		api.add(PendingTx{ID: txID(i + 1), Chain: "ETH", SerializedTransaction: fromSender(senders[q.sig], q.n), Hashes: []string{q.sig}})
	}
	d, err := New(Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: filepath.Join(t.TempDir(), "l.db"), Concurrency: 16},
		api.client(), orderKeys())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sum, err := d.RunOnce(t.Context())
	if err != nil || sum.Submitted != len(all) || sum.Signed != len(all) {
		t.Fatalf("%+v %v; reported %+v", sum, err, api.errorsReported())
	}
	got := nonceOrder(t, api.received())
	for sig, addr := range senders {
		nonces := got[addr]
		if len(nonces) != 60 {
			t.Fatalf("%s: %d submissions", sig, len(nonces))
		}
		for i, n := range nonces {
			if n != uint64(i) {
				t.Fatalf("%s submitted nonces in the order %v", sig, nonces)
			}
		}
	}
}

// When a sender's transaction is not submitted (the node is down for it),
// the sender's later ones are signed but held back rather than sent after a
// gap, also while the failed one waits for its retry; the run after the
// wait submits them from the ledger, in order, without signing again. The
// other sender is not held back.
func TestLaterNoncesWaitForAFailedOne(t *testing.T) {
	api := newFakeAPI(t)
	a, b := addressOf(t, testPK), addressOf(t, testPK2)
	for n := range 6 {
		api.add(PendingTx{ID: txID(10 + n), Chain: "ETH", SerializedTransaction: fromSender(a, n), Hashes: []string{sigPK}})
		api.add(PendingTx{ID: txID(20 + n), Chain: "ETH", SerializedTransaction: fromSender(b, n), Hashes: []string{sigPK2}})
	}
	down := true
	api.failBroadcast = func(id string) int {
		if down && id == txID(12) {
			return 502
		}
		return 0
	}
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	c := api.client()
	c.Retries = 0
	d, err := New(Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: filepath.Join(t.TempDir(), "l.db"), Concurrency: 8,
		Period: time.Minute, Now: clock.now}, c, orderKeys())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sum, err := d.RunOnce(t.Context())
	if err != nil || sum.Signed != 12 || sum.Submitted != 8 || sum.Failed != 1 {
		t.Fatalf("first run: %+v %v", sum, err)
	}
	got := nonceOrder(t, api.received())
	if fmt.Sprint(got[a]) != "[0 1 2]" || fmt.Sprint(got[b]) != "[0 1 2 3 4 5]" {
		t.Fatalf("first run submitted %v from a, %v from b", got[a], got[b])
	}
	if r := api.errorsReported(); len(r) != 1 || r[0].SignatureID != txID(12) {
		t.Fatalf("reported %+v", r)
	}

	// While the failed one waits for its retry, the sender's later ones
	// wait with it.
	down = false
	before := len(api.received())
	sum, err = d.RunOnce(t.Context())
	if err != nil || sum.Resubmitted != 0 || len(api.received()) != before {
		t.Fatalf("run within the retry wait: %+v %v, %d submissions", sum, err, len(api.received()))
	}

	clock.t = clock.t.Add(time.Hour)
	sum, err = d.RunOnce(t.Context())
	if err != nil || sum.Signed != 0 || sum.Resubmitted != 4 {
		t.Fatalf("second run: %+v %v", sum, err)
	}
	got = nonceOrder(t, api.received())
	if fmt.Sprint(got[a]) != "[0 1 2 2 3 4 5]" {
		t.Fatalf("a's nonces submitted in the order %v", got[a])
	}
}
