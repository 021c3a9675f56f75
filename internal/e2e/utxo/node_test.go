package utxo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"
)

// nodeBinary finds a node program: the environment variable the test command
// sets (scripts/setup.d/utxo-nodes.sh), else name on PATH. A missing node
// skips the test on a developer's machine and fails it in CI, so that CI never
// passes by running nothing.
func nodeBinary(t *testing.T, env, name string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", env, p, err)
		}
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := fmt.Sprintf("%s not found: set %s or put %s on PATH (scripts/test installs it through scripts/setup.d/utxo-nodes.sh)", name, env, name)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type nodeKind int

const (
	btcd nodeKind = iota
	bchd
	litecoind
)

// node is a regtest node run by a test, and a JSON-RPC client for it.
type node struct {
	kind nodeKind
	// URL is the node's JSON-RPC URL with its credentials, as the server is
	// configured with it.
	URL      string
	endpoint string
	http     *http.Client
}

const rpcUser, rpcPass = "custos", "regtest"

// startNode runs bin on loopback with a temporary data directory until the
// test ends. btcd and bchd keep an address index, the transfer endpoints'
// source of an address's unspent outputs. btcd and bchd mine to miningAddrs (one picked at random per
// block); litecoind mines to the address given to mineTo.
func startNode(t *testing.T, kind nodeKind, bin string, miningAddrs ...string) *node {
	t.Helper()
	dir := t.TempDir()
	rpcAddr := freeAddr(t)
	var args []string
	switch kind {
	case btcd, bchd:
		args = []string{"--regtest", "--datadir=" + filepath.Join(dir, "data"), "--logdir=" + filepath.Join(dir, "log"),
			"--rpcuser=" + rpcUser, "--rpcpass=" + rpcPass, "--rpclisten=" + rpcAddr, "--listen=" + freeAddr(t),
			"--notls", "--nodnsseed", "--txindex", "--addrindex", "--debuglevel=warn"}
		for _, a := range miningAddrs {
			args = append(args, "--miningaddr="+a)
		}
	case litecoind:
		_, port, _ := net.SplitHostPort(rpcAddr)
		args = []string{"-regtest", "-datadir=" + dir, "-server", "-rpcbind=127.0.0.1", "-rpcallowip=127.0.0.1",
			"-rpcport=" + port, "-rpcuser=" + rpcUser, "-rpcpassword=" + rpcPass, "-listen=0",
			"-dnsseed=0", "-disablewallet", "-printtoconsole"}
	}
	logPath := filepath.Join(dir, "console.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logFile.Close() }()
	// Registered after TempDir, so it runs before the directory is removed.
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%s log (last lines):\n%s", filepath.Base(bin), tail(logPath, 25))
		}
	})

	n := &node{kind: kind, URL: "http://" + rpcUser + ":" + rpcPass + "@" + rpcAddr,
		endpoint: "http://" + rpcAddr, http: &http.Client{Timeout: 30 * time.Second}}
	ctx := t.Context()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var height int64
		err := n.call(ctx, "getblockcount", &height)
		if err == nil {
			return n
		}
		select {
		case werr := <-exited:
			exited <- werr
			t.Fatalf("%s exited at start (%v):\n%s", bin, werr, tail(logPath, 25))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer on %s within a minute: %v", bin, rpcAddr, err)
		}
	}
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return strings.Join(out[max(0, len(out)-lines):], "\n")
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// call makes one JSON-RPC 1.0 call; a node's error answer is an *rpcError.
func (n *node) call(ctx context.Context, method string, result any, params ...any) error {
	if params == nil {
		params = []any{}
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": 1, "method": method, "params": params})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(rpcUser, rpcPass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("%s: HTTP %d: %.200s", method, resp.StatusCode, data)
	}
	if r.Error != nil {
		return r.Error
	}
	if result == nil {
		return nil
	}
	return json.Unmarshal(r.Result, result)
}

func (n *node) must(t *testing.T, method string, result any, params ...any) {
	t.Helper()
	if err := n.call(t.Context(), method, result, params...); err != nil {
		t.Fatalf("%s %v: %v", method, params, err)
	}
}

// mine makes count blocks and returns their hashes: to the mining addresses
// (btcd, bchd) or to addr (litecoind, which has no mining address).
func (n *node) mine(t *testing.T, count int, addr string) []string {
	t.Helper()
	var hashes []string
	if n.kind == litecoind {
		n.must(t, "generatetoaddress", &hashes, count, addr)
	} else {
		n.must(t, "generate", &hashes, count)
	}
	if len(hashes) != count {
		t.Fatalf("mined %d blocks, asked for %d", len(hashes), count)
	}
	return hashes
}

// blockTxIDs lists a block's transactions, coinbase first.
func (n *node) blockTxIDs(t *testing.T, hash string) []string {
	t.Helper()
	var verbose any = 1
	if n.kind == bchd {
		verbose = true // bchd keeps the older boolean form
	}
	var block struct {
		Tx []string `json:"tx"`
	}
	n.must(t, "getblock", &block, hash, verbose)
	return block.Tx
}

// rawTx fetches a mined transaction: through the transaction index (btcd,
// bchd) or, on litecoind, which has none here, from its block.
func (n *node) rawTx(t *testing.T, txid, block string) *wire.MsgTx {
	t.Helper()
	var raw string
	if n.kind == litecoind {
		n.must(t, "getrawtransaction", &raw, txid, false, block)
	} else {
		n.must(t, "getrawtransaction", &raw, txid)
	}
	b, err := hex.DecodeString(raw)
	if err != nil {
		t.Fatal(err)
	}
	tx := new(wire.MsgTx)
	if err := tx.Deserialize(bytes.NewReader(b)); err != nil {
		t.Fatalf("transaction %s: %v", txid, err)
	}
	return tx
}

func (n *node) mempool(t *testing.T) []string {
	t.Helper()
	var ids []string
	n.must(t, "getrawmempool", &ids)
	return ids
}

// utxo is gettxout's answer; nil when the output is spent or unknown.
type utxoInfo struct {
	Confirmations int64   `json:"confirmations"`
	Value         float64 `json:"value"`
	ScriptPubKey  struct {
		Hex string `json:"hex"`
	} `json:"scriptPubKey"`
}

func (n *node) txOut(t *testing.T, txid string, vout uint32) *utxoInfo {
	t.Helper()
	var out *utxoInfo
	n.must(t, "gettxout", &out, txid, vout, false)
	return out
}

// coin is a spendable output the test found on the chain.
type coin struct {
	prev *wire.MsgTx // the whole transaction, for PSBT's non_witness_utxo
	vout uint32
}

func (c coin) out() *wire.TxOut { return c.prev.TxOut[c.vout] }

// coinbase is the output 0 of a block's coinbase transaction.
func (n *node) coinbase(t *testing.T, block string) coin {
	t.Helper()
	return coin{prev: n.rawTx(t, n.blockTxIDs(t, block)[0], block)}
}

// coinbases finds, among the mature blocks of hashes (all but the last 100),
// want[script] coinbases paying each script on output 0.
func (n *node) coinbases(t *testing.T, hashes []string, want map[string]int) map[string][]coin {
	t.Helper()
	found := map[string][]coin{}
	missing := 0
	for _, k := range want {
		missing += k
	}
	for _, h := range hashes[:max(0, len(hashes)-100)] {
		if missing == 0 {
			break
		}
		cb := n.coinbase(t, h)
		s := hex.EncodeToString(cb.out().PkScript)
		if len(found[s]) < want[s] {
			found[s] = append(found[s], cb)
			missing--
		}
	}
	if missing > 0 {
		t.Fatalf("the mature blocks do not pay every mining address often enough: %d coinbases missing", missing)
	}
	return found
}

// confirmed mines one block and checks that it holds every txid, that each
// transaction's output vout now pays script and value with one confirmation,
// and that the outputs it spent are gone from the UTXO set.
func (n *node) confirmed(t *testing.T, sink string, checks []outputCheck) {
	t.Helper()
	block := n.blockTxIDs(t, n.mine(t, 1, sink)[0])
	for _, c := range checks {
		if !slices.Contains(block, c.txid) {
			t.Errorf("%s: %s is not in the mined block", c.name, c.txid)
			continue
		}
		got := n.txOut(t, c.txid, c.vout)
		switch {
		case got == nil:
			t.Errorf("%s: output %s:%d not in the UTXO set", c.name, c.txid, c.vout)
		case got.Confirmations != 1 || got.ScriptPubKey.Hex != hex.EncodeToString(c.script) ||
			int64(math.Round(got.Value*1e8)) != c.value:
			t.Errorf("%s: output %s:%d = %+v, want %d sat to %x with 1 confirmation", c.name, c.txid, c.vout, *got, c.value, c.script)
		}
		for _, in := range c.spent {
			if n.txOut(t, in.prev.TxHash().String(), in.vout) != nil {
				t.Errorf("%s: input %s:%d is still unspent", c.name, in.prev.TxHash(), in.vout)
			}
		}
	}
}

type outputCheck struct {
	name   string
	txid   string
	vout   uint32
	script []byte
	value  int64
	spent  []coin
}
