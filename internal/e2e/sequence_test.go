package e2e

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/pending/sqlite"
)

// noNonce is a transfer from w without a nonce: the server allocates it.
func noNonce(w managed, to common.Address, value int64) string {
	return fmt.Sprintf(`{"from":"%s","to":"%s","value":"%d","gas":21000,"gasPrice":"%s","chainId":%d}`,
		w.addr.Hex(), to.Hex(), value, gasPrice, chainID)
}

// queueMany queues n transfers of 1 wei from w to payee through clients
// concurrent clients, none with a nonce, and returns their ids.
func (s *stack) queueMany(w managed, payee common.Address, n, clients int) []string {
	s.t.Helper()
	return s.queueConcurrently(w, noNonce(w, payee, 1), n, clients)
}

// queueConcurrently queues serialized n times for w through clients
// concurrent clients and returns the ids.
func (s *stack) queueConcurrently(w managed, serialized string, n, clients int) []string {
	s.t.Helper()
	var (
		mu   sync.Mutex
		ids  []string
		errs []string
		wg   sync.WaitGroup
		next = make(chan struct{}, n)
	)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				body := map[string]any{"chain": "ETH", "serializedTransaction": serialized, "hashes": []string{w.sigID}}
				var out struct{ ID string }
				code, err := s.tryDo(http.MethodPost, "/v3/kms", body, &out)
				mu.Lock()
				if err != nil || code != http.StatusOK {
					errs = append(errs, fmt.Sprintf("%d %v", code, err))
				} else {
					ids = append(ids, out.ID)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		s.t.Fatalf("%d of %d queue requests failed, first: %s", len(errs), n, errs[0])
	}
	return ids
}

// storedNonce is the nonce the server put in a queued transaction.
func (s *stack) storedNonce(id string) uint64 {
	s.t.Helper()
	var tx struct {
		SerializedTransaction string `json:"serializedTransaction"`
	}
	if code := s.apiDo(http.MethodGet, "/v3/kms/"+id, nil, &tx); code != http.StatusOK {
		s.t.Fatalf("GET /v3/kms/%s: %d", id, code)
	}
	_, n, err := evm.ETH.Sequence(tx.SerializedTransaction, true)
	if err != nil || n == nil {
		s.t.Fatalf("stored %s: %v", tx.SerializedTransaction, err)
	}
	return *n
}

// drain runs the daemon (its Config adjusted by edit, when not nil) until
// nothing is pending and the sender's mined nonce reaches want.
func (s *stack) drain(w managed, want uint64, edit func(*daemon.Config)) {
	s.t.Helper()
	d := s.newDaemon(s.client(), edit)
	defer d.Close() // the ledger is free for the next drain
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	for {
		sum, err := d.RunOnce(ctx)
		if err != nil {
			s.t.Fatalf("daemon run: %v", err)
		}
		if sum.Pending == 0 && s.nonce(w.addr) >= want {
			break
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("not drained: last run %+v, sender's nonce %d, want %d", sum, s.nonce(w.addr), want)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if got := s.nonce(w.addr); got != want {
		s.t.Fatalf("sender's mined nonce %d, want %d", got, want)
	}
}

// minedNonces checks that every id was broadcast, mined from w, and that
// their nonces are 0..len(ids)-1 each exactly once.
func (s *stack) minedNonces(w managed, ids []string) {
	s.t.Helper()
	ctx := context.Background()
	var nonces []uint64
	for _, id := range ids {
		got := s.get(id)
		if got.TxID == "" {
			s.t.Fatalf("%s has no txId", id)
		}
		r := s.receipt(ctx, common.HexToHash(got.TxID))
		tx, _, err := s.node.TransactionByHash(ctx, r.TxHash)
		if err != nil {
			s.t.Fatal(err)
		}
		nonces = append(nonces, tx.Nonce())
	}
	slices.Sort(nonces)
	for i, n := range nonces {
		if n != uint64(i) {
			s.t.Fatalf("mined nonces %v: position %d holds %d", nonces, i, n)
		}
	}
}

// runManyFromOne: 200 transfers from one sender, queued at once by 16
// clients without nonces, are all mined with nonces 0..199 (edit adjusts
// the daemon).
func runManyFromOne(t *testing.T, s *stack, funder *ecdsa.PrivateKey, edit func(*daemon.Config)) {
	w := s.addPrivateKeyWallet()
	s.sendDirect(funder, &w.addr, ether(10), nil, 21000)
	payee := randomAddress(t)
	const n = 200
	ids := s.queueMany(w, payee, n, 16)
	s.drain(w, n, edit)
	s.minedNonces(w, ids)
	if got := s.balance(payee); got.Cmp(big.NewInt(n)) != 0 {
		t.Fatalf("payee holds %s wei, want %d", got, n)
	}
}

func TestManyFromOneSenderDevChain(t *testing.T) {
	funder := newFunder(t)
	c := startDevChain(t, crypto.PubkeyToAddress(funder.PublicKey))
	runManyFromOne(t, newStack(t, c.URL()), funder, nil)
}

func TestManyFromOneSenderGanache(t *testing.T) {
	// About one run in three, ganache 7.9.2 accepts every transaction but
	// never mines the last few of the sender's (its mined nonce stops at
	// 170 or 197 of 200, with nothing pending in the server), even with one
	// submission at a time. Until that is understood this variant is opt-in.
	if os.Getenv("CUSTOS_TEST_GANACHE_MANY") == "" {
		t.Skip("set CUSTOS_TEST_GANACHE_MANY=1 to run: ganache sometimes leaves the last transactions unmined")
	}
	url := startGanache(t)
	seed, err := chain.Seed(ganacheMnemonic)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := evm.ETH.PrivateKey(seed, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	// Ganache's pool sometimes never mines a run of transactions of one
	// sender when some arrived ahead of their predecessors, though it
	// accepted them all; one submission at a time keeps them in nonce order
	// (the server allocates nonces in the order it stores the transactions,
	// which is the order the signer claims them).
	runManyFromOne(t, newStack(t, url), ecdsaKey(t, pk), func(c *daemon.Config) { c.Concurrency = 1 })
}

// Of 20 transfers queued without nonces, with the API restarted on its
// store between queue requests, 3 in the middle are deleted: every other
// one is mined, the holes are filled by self-transfers, nothing stays
// pending, and the sender's next transfer is mined too.
func TestDeletedInTheMiddle(t *testing.T) {
	funder := newFunder(t)
	c := startDevChain(t, crypto.PubkeyToAddress(funder.PublicKey))
	s := newStack(t, c.URL())
	w := s.addPrivateKeyWallet()
	s.sendDirect(funder, &w.addr, ether(10), nil, 21000)
	payee := randomAddress(t)

	ids := s.queueMany(w, payee, 10, 4)
	s.restartAPI(c.URL())
	ids = append(ids, s.queueMany(w, payee, 10, 4)...)
	byNonce := map[uint64]string{}
	for _, id := range ids {
		byNonce[s.storedNonce(id)] = id
	}
	if len(byNonce) != 20 {
		t.Fatalf("%d distinct nonces for 20 transfers across a restart", len(byNonce))
	}
	var kept []string
	for n := range uint64(20) {
		if n == 4 || n == 9 || n == 15 {
			if code := s.apiDo(http.MethodDelete, "/v3/kms/"+byNonce[n], nil, nil); code != http.StatusNoContent {
				t.Fatalf("DELETE: %d", code)
			}
			continue
		}
		kept = append(kept, byNonce[n])
	}
	s.drain(w, 20, nil)
	for _, id := range kept {
		if s.get(id).TxID == "" {
			t.Fatalf("%s was not broadcast", id)
		}
	}
	if got := s.balance(payee); got.Int64() != 17 {
		t.Fatalf("payee holds %s wei, want 17", got)
	}
	last := s.queue(w, noNonce(w, payee, 1), false)
	if n := s.storedNonce(last); n != 20 {
		t.Fatalf("the next transfer got nonce %d, want 20", n)
	}
	s.drain(w, 21, nil)
}

// restartAPI stops the API and its store and starts them again on the same
// file, as a killed and restarted server does.
func (s *stack) restartAPI(nodeURL string) {
	s.t.Helper()
	s.srv.Close()
	if err := s.pstore.Close(); err != nil {
		s.t.Fatal(err)
	}
	var err error
	if s.pstore, err = sqlite.Open(context.Background(), s.storePath); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { s.pstore.Close() })
	nodes, err := broadcast.Dial([]broadcast.NodeSpec{{Chain: "ETH", Testnet: true, URL: nodeURL}}, chains.Dialer)
	if err != nil {
		s.t.Fatal(err)
	}
	s.srv = httptest.NewServer(api.New(api.Config{Store: s.pstore, Nodes: nodes, Logger: testLogger(s.t),
		ExtraChainIDs: map[bool]map[string][]uint64{true: {"ETH": {chainID}}}}))
	s.t.Cleanup(s.srv.Close)
}
