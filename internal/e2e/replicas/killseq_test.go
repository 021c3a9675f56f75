package replicas

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/pending/postgres/pgtest"
)

// TestKilledServerHandsOutNoSequenceTwice: one `custos serve` process,
// SIGKILLed twice while transfers from ONE sender are queued without nonces
// and restarted on the same store (SQLite file, then PostgreSQL). Clients
// retry what failed once the server is back; a request whose answer was lost
// may or may not have stored a transaction, so the test counts what the store
// holds, not what the clients saw: the stored transactions of the sender hold
// nonces 0..n-1 each once, and a daemon signing them all gets every one mined.
func TestKilledServerHandsOutNoSequenceTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and a chain; skipped with -short")
	}
	t.Run("sqlite", func(t *testing.T) {
		killAndCount(t, "sqlite:"+filepath.Join(t.TempDir(), "custos.db"))
	})
	t.Run("postgres", func(t *testing.T) { killAndCount(t, pgtest.NewSchema(t)) })
}

func killAndCount(t *testing.T, dbURL string) {
	const k, clients, kills = 30, 4, 2
	c := newClusterOn(t, 1, dbURL)
	addr := freeAddr(t)
	srv := c.startReplicaAt(addr)
	url := srv.url
	sender := c.wallets[0]
	payee := common.HexToAddress("0x00000000000000000000000000000000c0ffee03")
	body := noNonceTransfer(sender, payee)

	var (
		ids              = make([]string, k)
		answered, flight atomic.Int64
		failed           atomic.Int64
		wg               sync.WaitGroup
		mu               sync.Mutex
		errs             []error
		work             = make(chan int, k)
		deadline         = time.Now().Add(60 * time.Second)
		allIn            = make(chan struct{})
		// restarted is closed when the server killed last is back: a
		// client whose request failed waits on the one it saw before
		// sending, as a client would wait for a failed-over server.
		restarted atomic.Pointer[chan struct{}]
	)
	first := make(chan struct{})
	restarted.Store(&first)
	for i := range k {
		work <- i
	}
	close(work)
	for range clients {
		wg.Go(func() {
			for i := range work {
				for {
					var out struct{ ID string }
					back := *restarted.Load()
					flight.Add(1)
					err := doJSON(url, c.apiKey, "POST", "/v3/kms", body, &out)
					flight.Add(-1)
					if err == nil {
						ids[i] = out.ID
						answered.Add(1)
						break
					}
					failed.Add(1)
					select {
					case <-back:
					case <-time.After(time.Until(deadline)):
						mu.Lock()
						errs = append(errs, fmt.Errorf("transfer %d: %w", i, err))
						mu.Unlock()
						return
					}
				}
			}
		})
	}
	go func() { wg.Wait(); close(allIn) }()

	// Kill j happens once at least a random number of the j-th third of
	// the requests were answered, at a moment a request is in flight.
	for j := range kills {
		at := int64(j*k/3 + 1 + rand.IntN(k/3))
		for answered.Load() < at || flight.Load() == 0 {
			select {
			case <-allIn:
				t.Fatalf("every request was answered before kill %d (at %d answers)", j+1, at)
			default:
			}
			time.Sleep(50 * time.Microsecond)
		}
		inFlight, n := flight.Load(), answered.Load()
		kill(t, srv) // fails unless srv was running and died of SIGKILL
		t.Logf("kill %d: SIGKILLed %s (pid %d) after %d of %d answers, %d requests in flight",
			j+1, srv.name, srv.cmd.Process.Pid, n, k, inFlight)
		c.lb.remove(url)
		srv = c.startReplicaAt(addr)
		next := make(chan struct{})
		close(*restarted.Swap(&next))
	}
	<-allIn
	if len(errs) > 0 {
		t.Fatalf("%d of %d transfers never queued, first: %v", len(errs), k, errs[0])
	}
	t.Logf("all %d answered; %d requests failed on the way and were retried", k, failed.Load())

	// What the store holds: the ids the clients got, and whatever the
	// pending list holds besides (created by a request whose answer was lost).
	var stored []struct {
		ID                    string `json:"id"`
		SerializedTransaction string `json:"serializedTransaction"`
	}
	if err := doJSON(url, c.apiKey, "GET", "/v3/kms/pending/ETH", nil, &stored); err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, s := range stored {
		listed[s.ID] = s.SerializedTransaction
	}
	for i, id := range ids {
		var got struct {
			SerializedTransaction string `json:"serializedTransaction"`
		}
		if err := doJSON(url, c.apiKey, "GET", "/v3/kms/"+id, nil, &got); err != nil {
			t.Fatalf("transfer %d (%s): %v", i, id, err)
		}
		if _, ok := listed[id]; !ok {
			t.Fatalf("transfer %d (%s) is not in the pending list", i, id)
		}
	}
	byNonce := map[uint64]string{}
	for id, ser := range listed {
		var body struct {
			Nonce string `json:"nonce"`
		}
		if err := json.Unmarshal([]byte(ser), &body); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		nonce, err := strconv.ParseUint(body.Nonce, 0, 64)
		if err != nil {
			t.Fatalf("%s: stored nonce %q: %v", id, body.Nonce, err)
		}
		if other, ok := byNonce[nonce]; ok {
			t.Fatalf("nonce %d handed out twice: %s and %s", nonce, other, id)
		}
		byNonce[nonce] = id
	}
	n := uint64(len(listed))
	// Nothing was deleted or mined, so the nonces are 0..n-1: one taken by
	// a request that was killed but not stored would be a hole that blocks
	// every later transfer.
	var missing []uint64
	for i := range n {
		if _, ok := byNonce[i]; !ok {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("stored nonces of %d transactions skip %v", n, missing)
	}
	t.Logf("store holds %d transactions of the sender (%d created by a request whose answer was lost), nonces 0..%d",
		n, int(n)-k, n-1)

	// Signed, they are all mined: no nonce is shared and none is skipped.
	c.lb.add(url)
	c.startDaemon(5)
	c.waitFor("every stored transaction mined", 60*time.Second, func() bool {
		got, err := c.chain.Client().NonceAt(t.Context(), sender.addr, nil)
		return err == nil && got >= n
	})
	c.waitFor("nothing pending", 30*time.Second, func() bool {
		var left []json.RawMessage
		return doJSON(url, c.apiKey, "GET", "/v3/kms/pending/ETH", nil, &left) == nil && len(left) == 0
	})
	node := c.chain.Client()
	if got, err := node.NonceAt(t.Context(), sender.addr, nil); err != nil || got != n {
		t.Fatalf("sender's mined nonce %d (%v), want %d", got, err, n)
	}
	if bal, err := node.BalanceAt(t.Context(), payee, nil); err != nil || bal.Cmp(new(big.Int).SetUint64(n)) != 0 {
		t.Fatalf("payee holds %v wei (%v), want %d", bal, err, n)
	}
}
