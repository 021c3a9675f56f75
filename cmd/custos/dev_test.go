package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/custoskms/custos/internal/devchain"
)

// lockedBuffer is a bytes.Buffer safe for the command's goroutines and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// curlCall is one curl line of the walk-through, parsed.
type curlCall struct {
	method, url string
	header      http.Header
	body        string
}

// parseCurl reads the curl lines `custos dev` prints: words, and
// single-quoted strings without escapes.
func parseCurl(t *testing.T, line string) curlCall {
	t.Helper()
	var words []string
	for rest := strings.TrimSpace(line); rest != ""; rest = strings.TrimSpace(rest) {
		if rest[0] == '\'' {
			end := strings.IndexByte(rest[1:], '\'')
			if end < 0 {
				t.Fatalf("unbalanced quote in %q", line)
			}
			words = append(words, rest[1:end+1])
			rest = rest[end+2:]
			continue
		}
		w, r, _ := strings.Cut(rest, " ")
		words, rest = append(words, w), r
	}
	if len(words) == 0 || words[0] != "curl" {
		t.Fatalf("not a curl line: %q", line)
	}
	c := curlCall{method: http.MethodGet, header: http.Header{}}
	for i := 1; i < len(words); i++ {
		switch words[i] {
		case "-s":
		case "-X":
			i++
			c.method = words[i]
		case "-H":
			i++
			k, v, _ := strings.Cut(words[i], ":")
			c.header.Set(k, strings.TrimSpace(v))
		case "-d":
			i++
			c.body = words[i]
		default:
			c.url = words[i]
		}
	}
	return c
}

func (c curlCall) do(t *testing.T, ctx context.Context) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = c.header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestDevWalkthrough runs `custos dev` in-process, follows the walk-through it
// prints (the very curl lines, sent by the test), and checks the transfer on
// the chain: receipt status 1, the txId on the pending transaction, the
// recipient's balance. Cancelling stops the command and removes its directory.
func TestDevWalkthrough(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	outR, outW := io.Pipe()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(runCtx, []string{"dev", "--listen", "127.0.0.1:0", "--rpc-port", "0", "--period", "200ms"},
			strings.NewReader(""), outW, &stderr)
		outW.Close()
	}()
	lineCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(outR)
		if sc.Scan() {
			lineCh <- sc.Text()
		}
		close(lineCh)
		_, _ = io.Copy(io.Discard, outR)
	}()
	var line string
	select {
	case line = <-lineCh:
	case code := <-done:
		t.Fatalf("custos dev exited with %d: %s", code, stderr.String())
	case <-ctx.Done():
		t.Fatalf("no ready line: %s", stderr.String())
	}
	var info struct {
		APIURL string `json:"apiUrl"`
		APIKey string `json:"apiKey"`
		Chains map[string]struct {
			RPCURL      string `json:"rpcUrl"`
			ChainID     uint64 `json:"chainId"`
			SignatureID string `json:"signatureId"`
			Address     string `json:"address"`
		} `json:"chains"`
	}
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	eth, ok := info.Chains["ETH"]
	if !ok || len(info.Chains) != 1 || eth.ChainID != devchain.ChainID || info.APIKey == "" ||
		!strings.HasPrefix(info.APIURL, "http://127.0.0.1:") || !strings.HasPrefix(eth.RPCURL, "http://127.0.0.1:") ||
		!common.IsHexAddress(eth.Address) || len(eth.SignatureID) != 36 {
		t.Fatalf("ready line %q", line)
	}

	// The walk-through is printed right after the ready line.
	var walk string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if walk = stderr.String(); strings.Count(walk, "\ncurl ") == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("walk-through: %s", walk)
		}
	}
	var curls []curlCall
	for _, l := range strings.Split(walk, "\n") {
		if strings.HasPrefix(l, "curl ") {
			curls = append(curls, parseCurl(t, l))
		}
	}
	dirMatch := regexp.MustCompile(`deletes (\S+)\)`).FindStringSubmatch(walk)
	if dirMatch == nil {
		t.Fatalf("walk-through names no directory: %s", walk)
	}
	dir := dirMatch[1]
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("data dir: %v", err)
	}

	// 1. Queue the transfer.
	status, body := curls[0].do(t, ctx)
	var queued struct{ ID string }
	if status != 200 || json.Unmarshal(body, &queued) != nil || len(queued.ID) != 24 {
		t.Fatalf("queue: %d %s", status, body)
	}
	var serialized struct{ To string }
	if err := json.Unmarshal([]byte(jsonField(t, curls[0].body, "serializedTransaction")), &serialized); err != nil {
		t.Fatal(err)
	}

	// 2. Poll the transaction until the signer has submitted it.
	get := curls[1]
	get.url = strings.Replace(get.url, "/ID", "/"+queued.ID, 1)
	var got struct {
		ID, TxID string
	}
	for {
		status, body = get.do(t, ctx)
		if status != 200 || json.Unmarshal(body, &got) != nil || got.ID != queued.ID {
			t.Fatalf("get: %d %s", status, body)
		}
		if got.TxID != "" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("never signed: %s\n%s", body, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}

	cl, err := ethclient.DialContext(ctx, eth.RPCURL)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	r, err := devchain.WaitReceipt(ctx, cl, common.HexToHash(got.TxID))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 1 || r.TxHash.Hex() != common.HexToHash(got.TxID).Hex() {
		t.Fatalf("receipt %+v", r)
	}
	tx, _, err := cl.TransactionByHash(ctx, r.TxHash)
	if err != nil || tx.To() == nil || !strings.EqualFold(tx.To().Hex(), serialized.To) || tx.Nonce() != 0 {
		t.Fatalf("mined transaction %v %v", tx, err)
	}
	if from, err := types.Sender(types.LatestSignerForChainID(big.NewInt(devchain.ChainID)), tx); err != nil || !strings.EqualFold(from.Hex(), eth.Address) {
		t.Fatalf("signed by %s, the wallet's index 0 is %s (%v)", from.Hex(), eth.Address, err)
	}

	// The dev server tracks it at a depth of 1: confirmed, with its block and fee.
	var outcome struct {
		Status      string
		BlockNumber uint64
		Fee         string
	}
	fee := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice).String()
	for outcome.Status != "confirmed" {
		select {
		case <-ctx.Done():
			t.Fatalf("never confirmed: %s\n%s", body, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if status, body = get.do(t, ctx); status != 200 || json.Unmarshal(body, &outcome) != nil {
			t.Fatalf("get: %d %s", status, body)
		}
	}
	if outcome.BlockNumber != r.BlockNumber.Uint64() || outcome.Fee != fee {
		t.Fatalf("confirmed: %s; want block %d and fee %s", body, r.BlockNumber, fee)
	}

	// 3. The balance line answers 0.01 ETH for the recipient.
	status, body = curls[2].do(t, ctx)
	var bal struct{ Result string }
	if status != 200 || json.Unmarshal(body, &bal) != nil {
		t.Fatalf("balance: %d %s", status, body)
	}
	if want := "0x" + new(big.Int).Exp(big.NewInt(10), big.NewInt(16), nil).Text(16); bal.Result != want {
		t.Fatalf("balance %s, want %s", bal.Result, want)
	}

	stop()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("custos dev did not stop")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("data dir left behind: %v", err)
	}
	if strings.Contains(stderr.String(), `"level":"ERROR"`) {
		t.Fatalf("errors logged: %s", stderr.String())
	}
}

func jsonField(t *testing.T, doc, field string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := json.Unmarshal(m[field], &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// A taken API port fails the command cleanly and removes its directory.
func TestDevListenError(t *testing.T) {
	var stdout, stderr lockedBuffer
	code := run(t.Context(), []string{"dev", "--listen", "256.0.0.1:1", "--rpc-port", "0"}, strings.NewReader(""), &stdout, &stderr)
	if code == 0 || stdout.String() != "" || !strings.Contains(stderr.String(), `"error":"listen:`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
