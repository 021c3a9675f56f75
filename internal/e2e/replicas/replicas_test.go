// Package replicas tests Custos deployed for availability: several `custos
// serve` replicas on one PostgreSQL database and several `custos daemon`
// signers holding the same wallets, as real processes of the built binary,
// with some of them killed mid-run.
package replicas

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/devchain"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/postgres"
	"github.com/custoskms/custos/internal/pending/postgres/pgtest"
	"github.com/custoskms/custos/internal/pending/sqlite"
	"github.com/custoskms/custos/internal/walletstore"
)

const password = "replicas test password"

var gasPrice = big.NewInt(20_000_000_000)

// buildBinary builds cmd/custos once per test process.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "custos-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "custos")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/custoskms/custos/cmd/custos")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// cluster is one deployment: a dev chain, a PostgreSQL schema, wallets in a
// store every daemon opens, an API key, replicas and daemons as processes,
// and a load balancer in front of the replicas.
type cluster struct {
	t       testing.TB
	bin     string
	dir     string
	dbURL   string
	db      *pgxpool.Pool
	chain   *devchain.Chain
	apiKey  string
	wallets []wallet
	lb      *balancer

	mu       sync.Mutex
	replicas []*proc
	daemons  []*proc
	// serveArgs are further flags of every replica started.
	serveArgs []string
}

type wallet struct {
	sigID string
	addr  common.Address
}

type proc struct {
	name string
	cmd  *exec.Cmd
	url  string // replicas: base URL
	log  *bytes.Buffer
	done chan struct{}
}

func newCluster(t testing.TB, nWallets int) *cluster {
	t.Helper()
	return newClusterOn(t, nWallets, pgtest.NewSchema(t))
}

// newClusterOn is newCluster on the store at dbURL, as `custos serve
// --database` takes it: sqlite:PATH or a PostgreSQL URL. c.db is only set on
// PostgreSQL.
func newClusterOn(t testing.TB, nWallets int, dbURL string) *cluster {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := &cluster{t: t, bin: bin, dir: t.TempDir(), dbURL: dbURL}

	// Wallets, each funded in genesis so that each sends one transfer with nonce 0.
	entries := make([]walletstore.Entry, nWallets)
	alloc := map[common.Address]*big.Int{}
	for i := range entries {
		pk, err := evm.ETH.GeneratePrivateKey(rand.Reader, true)
		if err != nil {
			t.Fatal(err)
		}
		addr, err := evm.ETH.AddressFromPrivateKey(pk, true)
		if err != nil {
			t.Fatal(err)
		}
		entries[i] = walletstore.Entry{ID: walletstore.NewID(), Wallet: &walletstore.Wallet{Chain: "ETH", Testnet: true, PrivateKey: pk, Address: addr}}
		c.wallets = append(c.wallets, wallet{sigID: entries[i].ID, addr: common.HexToAddress(addr)})
		alloc[common.HexToAddress(addr)] = new(big.Int).Mul(big.NewInt(10), devchain.Ether)
	}
	ws, err := walletstore.Open(ctx, c.walletPath(), []byte(password), walletstore.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.PutMany(ctx, entries); err != nil {
		t.Fatal(err)
	}
	ws.Close()

	if c.chain, err = devchain.Start(ctx, devchain.Options{Alloc: alloc, PollInterval: 5 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.chain.Close() })

	c.apiKey = c.newAPIKey("replicas")
	if !strings.HasPrefix(dbURL, "sqlite:") {
		if c.db, err = pgxpool.New(ctx, dbURL); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.db.Close)
	}
	c.lb = newBalancer()
	t.Cleanup(c.lb.Close)
	t.Cleanup(c.stopAll)
	return c
}

// newAPIKey creates an API key of a tenant of its own, as `custos apikey
// create --testnet` would, and returns its secret.
func (c *cluster) newAPIKey(name string) string {
	c.t.Helper()
	ctx := context.Background()
	var (
		st  pending.Store
		err error
	)
	if path, ok := strings.CutPrefix(c.dbURL, "sqlite:"); ok {
		st, err = sqlite.Open(ctx, path)
	} else {
		st, err = postgres.Open(ctx, c.dbURL)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	defer st.Close()
	secret, hash, err := api.NewAPIKey()
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := st.CreateKey(ctx, name, true, pending.AllScopes, hash); err != nil {
		c.t.Fatal(err)
	}
	return secret
}

func (c *cluster) walletPath() string { return filepath.Join(c.dir, "wallet.dat") }

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (c *cluster) start(name string, env []string, args ...string) *proc {
	c.t.Helper()
	p := &proc{name: name, log: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(c.bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	return p
}

// startReplica runs `custos serve` on the shared database and adds it to the balancer.
func (c *cluster) startReplica() *proc {
	c.t.Helper()
	return c.startReplicaAt(freeAddr(c.t))
}

// startReplicaAt is startReplica listening on addr: a replica restarted
// where its predecessor was, so that clients reach it at the same URL.
func (c *cluster) startReplicaAt(addr string) *proc {
	c.t.Helper()
	args := append([]string{"serve", "--listen", addr, "--database", c.dbURL, "--data-dir", filepath.Join(c.dir, "data"),
		"--node", "ETH:testnet=" + c.chain.URL(), "--chain-id", "ETH:testnet=1337"}, c.serveArgs...)
	p := c.start(fmt.Sprintf("replica-%d", len(c.replicas)+1), nil, args...)
	p.url = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-p.done:
			c.t.Fatalf("%s exited: %s", p.name, p.log)
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s not ready: %s", p.name, p.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.mu.Lock()
	c.replicas = append(c.replicas, p)
	c.mu.Unlock()
	c.lb.add(p.url)
	return p
}

// startDaemon runs `custos daemon` against the balancer with its own ledger;
// extra are further daemon flags.
func (c *cluster) startDaemon(lease int, extra ...string) *proc {
	c.t.Helper()
	name := fmt.Sprintf("daemon-%d", len(c.daemons)+1)
	args := append([]string{"--path", c.walletPath(), "--testnet", "daemon", "--chain", "ETH", "--period", "1",
		"--api-url", c.lb.URL(), "--ledger", filepath.Join(c.dir, name+".ledger"),
		"--chain-id", "ETH:testnet=1337", "--signer-id", name, "--lease", fmt.Sprint(lease)}, extra...)
	p := c.start(name, []string{"CUSTOS_API_KEY=" + c.apiKey, "CUSTOS_PASSWORD=" + password}, args...)
	c.mu.Lock()
	c.daemons = append(c.daemons, p)
	c.mu.Unlock()
	return p
}

func (c *cluster) stopAll() {
	c.mu.Lock()
	ps := append(append([]*proc{}, c.daemons...), c.replicas...)
	c.mu.Unlock()
	for _, p := range ps {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range ps {
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// signed is what the stopped daemon d's ledger holds of ids.
func (c *cluster) signed(d *proc, ids []string) map[string]daemon.Entry {
	c.t.Helper()
	l, err := daemon.OpenLedger(filepath.Join(c.dir, d.name+".ledger"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer l.Close()
	got, err := l.Lookup(context.Background(), ids)
	if err != nil {
		c.t.Fatal(err)
	}
	return got
}

// kill ends a process with SIGKILL: no shutdown, no cleanup. It fails the
// test unless the process was still running and died of that signal.
func kill(t testing.TB, p *proc) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	<-p.done
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("%s had ended (%v) before it was killed: %s", p.name, p.cmd.ProcessState, p.log)
	}
}

// queue posts one transfer per wallet through the replicas in turn, eight at a time.
func (c *cluster) queue(ws []wallet) []string {
	c.t.Helper()
	return c.queueAs(c.apiKey, ws)
}

// queueAs is queue for the tenant of API key key.
func (c *cluster) queueAs(key string, ws []wallet) []string {
	c.t.Helper()
	payee := common.HexToAddress("0x00000000000000000000000000000000c0ffee01")
	ids := make([]string, len(ws))
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		errs = make(chan error, 8)
	)
	c.mu.Lock()
	replicas := append([]*proc{}, c.replicas...)
	c.mu.Unlock()
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ws) {
					return
				}
				tx, _ := json.Marshal(map[string]any{"to": payee.Hex(), "value": "1000", "nonce": 0, "gasLimit": 21000,
					"gasPrice": gasPrice.String(), "chainId": devchain.ChainID})
				body, _ := json.Marshal(map[string]any{"chain": "ETH", "serializedTransaction": string(tx), "hashes": []string{ws[i].sigID}})
				var out struct{ ID string }
				if err := doJSON(replicas[i%len(replicas)].url, key, "POST", "/v3/kms", body, &out); err != nil {
					errs <- err
					return
				}
				ids[i] = out.ID
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		c.t.Fatal(err)
	}
	return ids
}

// doJSON calls the API and decodes its answer into out; nil out accepts a
// 204 or ignores the answer.
func doJSON(base, key, method, path string, body []byte, out any) error {
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 && resp.StatusCode != 204 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// counts reads the database: pending and completed transactions, distinct txIds.
func (c *cluster) counts() (pendingN, completed, distinctTxIDs int) {
	c.t.Helper()
	err := c.db.QueryRow(context.Background(), `SELECT
		count(*) FILTER (WHERE tx_id IS NULL AND deleted_at IS NULL),
		count(*) FILTER (WHERE tx_id IS NOT NULL),
		count(DISTINCT tx_id)
		FROM txs`).Scan(&pendingN, &completed, &distinctTxIDs)
	if err != nil {
		c.t.Fatal(err)
	}
	return
}

// leasesHeld counts the running leases a daemon holds on pending transactions.
func (c *cluster) leasesHeld(name string) int {
	c.t.Helper()
	var n int
	err := c.db.QueryRow(context.Background(), `SELECT count(*) FROM txs
		WHERE tx_id IS NULL AND lease_owner = $1 AND lease_until > now()`, name).Scan(&n)
	if err != nil {
		c.t.Fatal(err)
	}
	return n
}

// busiestDaemon is the daemon holding the most running leases on pending transactions.
func (c *cluster) busiestDaemon() *proc {
	c.t.Helper()
	var owner string
	err := c.db.QueryRow(context.Background(), `SELECT lease_owner FROM txs
		WHERE tx_id IS NULL AND lease_owner IS NOT NULL AND lease_until > now()
		GROUP BY lease_owner ORDER BY count(*) DESC LIMIT 1`).Scan(&owner)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.daemons {
		if err == nil && d.name == owner {
			return d
		}
	}
	return c.daemons[0]
}

func (c *cluster) waitFor(what string, timeout time.Duration, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			c.dumpLogs()
			c.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *cluster) dumpLogs() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range append(append([]*proc{}, c.replicas...), c.daemons...) {
		log := p.log.String()
		if len(log) > 4000 {
			log = "…" + log[len(log)-4000:]
		}
		c.t.Logf("--- %s:\n%s", p.name, log)
	}
}

// TestReplicasAndDaemonsSurviveKills: 2 API replicas and 3 daemons on one
// PostgreSQL database sign 2,000 EVM transfers on the dev chain; one replica
// and the busiest daemon are killed with SIGKILL mid-run. Every transaction
// must be completed exactly once — one transfer per sender on the chain, each
// recorded txId mined and distinct — with none left pending, and the
// surviving daemons never signed the same transaction (their leases kept
// them apart).
func TestReplicasAndDaemonsSurviveKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and a chain; skipped with -short")
	}
	const n = 2000
	start := time.Now()
	c := newCluster(t, n)
	replicaA := c.startReplica()
	c.startReplica()
	t.Logf("setup %v", time.Since(start).Round(time.Millisecond))

	queued := time.Now()
	ids := c.queue(c.wallets)
	seen := map[string]bool{}
	for _, id := range ids {
		if len(id) != 24 || seen[id] {
			t.Fatalf("id %q empty or repeated across replicas", id)
		}
		seen[id] = true
	}
	t.Logf("queued %d through 2 replicas in %v", n, time.Since(queued).Round(time.Millisecond))

	daemonsStarted := time.Now()
	for range 3 {
		c.startDaemon(5)
	}
	c.waitFor("a quarter completed", 60*time.Second, func() bool { _, done, _ := c.counts(); return done >= n/4 })
	victim := c.busiestDaemon()
	// The victim must die holding work, or its kill tests nothing.
	held := c.leasesHeld(victim.name)
	if held == 0 {
		t.Fatalf("%s, to be killed, holds no lease on a pending transaction", victim.name)
	}
	kill(t, replicaA)
	c.lb.remove(replicaA.url)
	kill(t, victim)
	// Nothing is queued after this point, so what is pending now was pending
	// at both kills: they happened while work was in flight, not after the run.
	pendingAtKill, doneAtKill, _ := c.counts()
	if pendingAtKill == 0 {
		t.Fatalf("every transaction was completed before the kills (%d of %d)", doneAtKill, n)
	}
	t.Logf("killed %s and %s (holding %d leases) with %d of %d completed, %d pending",
		replicaA.name, victim.name, held, doneAtKill, n, pendingAtKill)

	c.waitFor("every transaction completed", 90*time.Second, func() bool { p, _, _ := c.counts(); return p == 0 })
	t.Logf("all %d completed %v after the daemons started", n, time.Since(daemonsStarted).Round(time.Millisecond))
	c.stopAll()

	pendingN, completed, distinct := c.counts()
	if pendingN != 0 || completed != n || distinct != n {
		t.Fatalf("pending %d, completed %d, distinct txIds %d; want 0, %d, %d", pendingN, completed, distinct, n, n)
	}
	// On the chain: each sender sent exactly one transaction, and it is the
	// one recorded for its pending transaction.
	ctx := context.Background()
	node := c.chain.Client()
	rows, err := c.db.Query(ctx, `SELECT id, tx_id FROM txs`)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]string{}
	for rows.Next() {
		var id, txID string
		if err := rows.Scan(&id, &txID); err != nil {
			t.Fatal(err)
		}
		recorded[id] = txID
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for i, w := range c.wallets {
		nonce, err := node.NonceAt(ctx, w.addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if nonce != 1 {
			t.Fatalf("sender %d sent %d transactions on the chain, want exactly 1", i, nonce)
		}
		txID := recorded[ids[i]]
		r, err := node.TransactionReceipt(ctx, common.HexToHash(txID))
		if err != nil || r.Status != 1 {
			t.Fatalf("%s: txId %s has no successful receipt: %v", ids[i], txID, err)
		}
	}
	// The surviving daemons' ledgers: no transaction signed by both.
	var survivors []*proc
	for _, d := range c.daemons {
		if d != victim {
			survivors = append(survivors, d)
		}
	}
	signedBy := map[string]string{}
	retried := 0
	for _, d := range survivors {
		got := c.signed(d, ids)
		for id := range got {
			if other, ok := signedBy[id]; ok {
				// Legitimate only as a retry: the first signer's submission
				// failed (it reported the failure), its lease ran out and the
				// other daemon took the transaction over.
				var reports int
				if err := c.db.QueryRow(ctx, `SELECT count(*) FROM tx_errors e JOIN txs t ON t.seq = e.seq WHERE t.id = $1`, id).Scan(&reports); err != nil {
					t.Fatal(err)
				}
				if reports == 0 {
					t.Fatalf("%s was signed by both %s and %s with no failed submission between", id, other, d.name)
				}
				retried++
			}
			signedBy[id] = d.name
		}
		t.Logf("%s signed %d", d.name, len(got))
	}
	t.Logf("signed by both surviving daemons after a failed submission: %d", retried)
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// balancer is the load balancer in front of the replicas: round robin over
// the live ones; a request whose replica cannot be reached or dies mid-way
// is sent to the next (every route the daemon uses is idempotent).
type balancer struct {
	srv  *http.Server
	ln   net.Listener
	mu   sync.Mutex
	urls []string
	next int
	http *http.Client
}

func newBalancer() *balancer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	b := &balancer{ln: ln, http: &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	b.srv = &http.Server{Handler: b}
	go func() { _ = b.srv.Serve(ln) }()
	return b
}

func (b *balancer) URL() string { return "http://" + b.ln.Addr().String() }
func (b *balancer) Close()      { _ = b.srv.Close() }

func (b *balancer) add(u string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.urls = append(b.urls, u)
}

func (b *balancer) remove(u string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, x := range b.urls {
		if x == u {
			b.urls = append(b.urls[:i], b.urls[i+1:]...)
			return
		}
	}
}

func (b *balancer) pick(attempt int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.urls) == 0 {
		return ""
	}
	if attempt == 0 {
		b.next++
	}
	return b.urls[(b.next+attempt)%len(b.urls)]
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	var lastErr error
	for attempt := range 4 {
		base := b.pick(attempt)
		if base == "" {
			break
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := b.http.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	if lastErr == nil {
		lastErr = errors.New("no replica")
	}
	http.Error(w, strings.ReplaceAll(lastErr.Error(), "\n", " "), http.StatusBadGateway)
}
