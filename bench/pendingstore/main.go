// Command pendingstore measures `custos serve` over a large SQLite pending
// store: it fills a fresh data directory with -n pending ETH transactions of
// one tenant (each with one signature ID drawn from a pool ten times larger,
// as the in-process pending-query benchmark does), then, with -custos, starts
// `custos serve` over it, asks POST /v3/kms/pending/ETH with the first -ids
// pool IDs a few times, and prints the answers' latency and the server's
// peak RSS (VmHWM) and anonymous memory.
//
//	go run ./bench/pendingstore -dir /tmp/ps -n 1000000 -custos ./custos
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/sqlite"
)

// keyFile holds the tenant's API key in the data directory, for later runs.
const keyFile = "bench-apikey"

// chunk is the transactions written per store transaction: one fsync each.
const chunk = 20_000

func main() {
	dir := flag.String("dir", "", "data directory: filled when it does not exist, else served as it is")
	n := flag.Int("n", 1_000_000, "pending transactions to store")
	custos := flag.String("custos", "", "custos binary to serve the store with (unset: only fill)")
	ids := flag.Int("ids", 25_000, "signature IDs per pending query")
	queries := flag.Int("queries", 5, "pending queries")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "pendingstore: -dir is required")
		os.Exit(2)
	}
	ctx := context.Background()
	key, err := os.ReadFile(filepath.Join(*dir, keyFile))
	if errors.Is(err, os.ErrNotExist) {
		key, err = fill(ctx, *dir, *n)
	}
	if err == nil && *custos != "" {
		err = serve(ctx, *custos, *dir, string(key), *ids, *queries)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pendingstore:", err)
		os.Exit(1)
	}
}

// poolID is the i-th signature ID of the pool.
func poolID(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i*7919) }

// fill creates dir with a pending store of n transactions and returns the
// API key of their tenant.
func fill(ctx context.Context, dir string, n int) ([]byte, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	start := time.Now()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "custos.db"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	secret, hash, err := api.NewAPIKey()
	if err != nil {
		return nil, err
	}
	k, err := st.CreateKey(ctx, "bench", false, pending.AllScopes, hash)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	txs := make([]pending.NewTx, 0, chunk)
	for i := range n {
		txs = append(txs, pending.NewTx{Chain: "ETH", Hashes: []string{poolID(rng.IntN(10 * n))},
			SerializedTransaction: fmt.Sprintf(`{"to":"0x%040x","amount":"0.%d","nonce":%d}`, i, i, i)})
		if len(txs) == chunk || i == n-1 {
			if _, err := st.Create(ctx, k.ID, txs...); err != nil {
				return nil, err
			}
			txs = txs[:0]
		}
	}
	fmt.Printf("stored %d pending transactions in %v\n", n, time.Since(start).Round(time.Millisecond))
	return []byte(secret), os.WriteFile(filepath.Join(dir, keyFile), []byte(secret), 0o600)
}

// serve starts custos serve over dir, asks the pending queries and prints
// their latency and the server's memory.
func serve(ctx context.Context, custos, dir, key string, ids, queries int) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.CommandContext(ctx, custos, "serve", "--listen", addr, "--rate-limit", "0")
	cmd.Env = append(os.Environ(), "CUSTOS_DATA_DIR="+dir, "CUSTOS_PATH="+filepath.Join(dir, "wallet.dat"))
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var body bytes.Buffer
	body.WriteString(`{"signatureIds":[`)
	for i := range ids {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, "%q", poolID(i))
	}
	body.WriteString("]}")
	var times []time.Duration
	matched := 0
	for deadline := time.Now().Add(30 * time.Second); len(times) < queries; {
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/v3/kms/pending/ETH", bytes.NewReader(body.Bytes()))
		req.Header.Set("X-API-Key", key)
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			if time.Now().After(deadline) {
				return fmt.Errorf("serve not answering: %w (see serve.log)", err)
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("pending query: %d %.200s", resp.StatusCode, b)
		}
		times = append(times, time.Since(t0))
		var txs []json.RawMessage
		if err := json.Unmarshal(b, &txs); err != nil {
			return fmt.Errorf("pending query: %w", err)
		}
		matched = len(txs)
	}
	slices.Sort(times)
	fmt.Printf("%d pending queries of %d IDs, %d matching: p50 %v, max %v\n",
		queries, ids, matched, times[len(times)/2].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond))
	fmt.Printf("serve after the queries: %s\n", memory(cmd.Process.Pid))
	return nil
}

// memory reads a process's peak and current resident sizes.
func memory(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		for _, f := range []string{"VmHWM", "VmRSS", "RssAnon", "RssFile"} {
			if v, ok := strings.CutPrefix(line, f+":"); ok {
				out = append(out, f+" "+strings.Join(strings.Fields(v), " "))
			}
		}
	}
	if len(out) == 0 {
		return errors.New("no memory figures").Error()
	}
	return strings.Join(out, ", ")
}
