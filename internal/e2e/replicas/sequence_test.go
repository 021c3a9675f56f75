package replicas

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/devchain"
)

// TestManyFromOneSenderReplicas: 200 transfers from ONE sender, queued at
// once by 16 clients without nonces and spread over 2 API replicas on one
// PostgreSQL database, signed by 2 daemons: every one is mined, their nonces
// are 0..199 each exactly once, and none stays pending. The replicas
// allocate from the shared store, so neither may hand out a nonce the other
// did.
func TestManyFromOneSenderReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and a chain; skipped with -short")
	}
	const n, clients = 200, 16
	start := time.Now()
	c := newCluster(t, 1)
	c.startReplica()
	c.startReplica()
	// Each claims at most 40 per period, so that both sign the sender's
	// transactions rather than the first claiming all 200.
	c.startDaemon(5, "--claim-limit", "40")
	c.startDaemon(5, "--claim-limit", "40")
	sender := c.wallets[0]
	payee := common.HexToAddress("0x00000000000000000000000000000000c0ffee02")
	t.Logf("setup %v", time.Since(start).Round(time.Millisecond))

	// Queue while the daemons run: they claim and sign what is there at
	// each period, so allocation and signing interleave as in production.
	queued := time.Now()
	ids := c.queueFromOne(sender, payee, n, clients)
	t.Logf("queued %d through 2 replicas by %d clients in %v", n, clients, time.Since(queued).Round(time.Millisecond))

	c.waitFor("every transaction completed", 90*time.Second, func() bool { p, done, _ := c.counts(); return p == 0 && done == n })
	ctx := context.Background()
	node := c.chain.Client()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := node.NonceAt(ctx, sender.addr, nil)
		if err == nil && got >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sender's mined nonce %d (%v) after every transaction was completed, want %d; %s", got, err, n, c.unknownToNode(ids))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("all %d completed and mined %v after queueing began", n, time.Since(queued).Round(time.Millisecond))

	if got, err := node.NonceAt(ctx, sender.addr, nil); err != nil || got != n {
		t.Fatalf("sender's mined nonce %d (%v), want %d", got, err, n)
	}
	pendingN, completed, distinct := c.counts()
	if pendingN != 0 || completed != n || distinct != n {
		t.Fatalf("pending %d, completed %d, distinct txIds %d; want 0, %d, %d", pendingN, completed, distinct, n, n)
	}
	// Each queued transaction's recorded txId is mined from the sender;
	// together their nonces are 0..n-1, each once.
	var nonces []uint64
	for _, id := range ids {
		var txID string
		if err := c.db.QueryRow(ctx, `SELECT tx_id FROM txs WHERE id = $1`, id).Scan(&txID); err != nil {
			c.t.Fatalf("%s: %v", id, err)
		}
		h := common.HexToHash(txID)
		r, err := node.TransactionReceipt(ctx, h)
		if err != nil || r.Status != 1 {
			t.Fatalf("%s: txId %s has no successful receipt: %v", id, txID, err)
		}
		tx, _, err := node.TransactionByHash(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		nonces = append(nonces, tx.Nonce())
	}
	slices.Sort(nonces)
	for i, got := range nonces {
		if got != uint64(i) {
			t.Fatalf("mined nonces %v: position %d holds %d", nonces, i, got)
		}
	}
	bal, err := node.BalanceAt(ctx, payee, nil)
	if err != nil || bal.Cmp(big.NewInt(n)) != 0 {
		t.Fatalf("payee holds %v wei (%v), want %d", bal, err, n)
	}
	// Both daemons signed some of the sender's transactions.
	c.stopAll()
	for _, d := range c.daemons {
		got := c.signed(d, ids)
		t.Logf("%s signed %d", d.name, len(got))
		if len(got) == 0 {
			t.Errorf("%s signed none of the sender's transactions", d.name)
		}
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// queueFromOne queues n transfers of 1 wei from w to payee without a nonce,
// clients at a time, request i through replica i mod 2, and returns their ids.
func (c *cluster) queueFromOne(w wallet, payee common.Address, n, clients int) []string {
	c.t.Helper()
	c.mu.Lock()
	replicas := slices.Clone(c.replicas)
	c.mu.Unlock()
	body := noNonceTransfer(w, payee)
	ids := make([]string, n)
	work := make(chan int, n)
	for i := range n {
		work <- i
	}
	close(work)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range clients {
		wg.Go(func() {
			for i := range work {
				var out struct{ ID string }
				if err := doJSON(replicas[i%len(replicas)].url, c.apiKey, "POST", "/v3/kms", body, &out); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("transfer %d: %w", i, err))
					mu.Unlock()
					continue
				}
				ids[i] = out.ID
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		c.t.Fatalf("%d of %d queue requests failed, first: %v", len(errs), n, errs[0])
	}
	return ids
}

// noNonceTransfer is the POST /v3/kms body of a 1 wei transfer from w to
// payee without a nonce, for the server to allocate one.
func noNonceTransfer(w wallet, payee common.Address) []byte {
	tx, _ := json.Marshal(map[string]any{"from": w.addr.Hex(), "to": payee.Hex(), "value": "1", "gas": 21000,
		"gasPrice": gasPrice.String(), "chainId": devchain.ChainID})
	body, _ := json.Marshal(map[string]any{"chain": "ETH", "serializedTransaction": string(tx), "hashes": []string{w.sigID}})
	return body
}

// unknownToNode says which recorded txIds the chain node does not know: a
// transaction completed by the API but dropped by the node.
func (c *cluster) unknownToNode(ids []string) string {
	ctx := context.Background()
	var lost []string
	for _, id := range ids {
		var txID string
		if err := c.db.QueryRow(ctx, `SELECT coalesce(tx_id, '') FROM txs WHERE id = $1`, id).Scan(&txID); err != nil || txID == "" {
			lost = append(lost, id+" (no txId)")
			continue
		}
		if _, _, err := c.chain.Client().TransactionByHash(ctx, common.HexToHash(txID)); err != nil {
			lost = append(lost, id+": "+err.Error())
		}
	}
	return fmt.Sprintf("%d of %d recorded transactions unknown to the node: %v", len(lost), len(ids), lost)
}
