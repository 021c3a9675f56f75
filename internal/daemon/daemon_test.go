package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/evm"
)

// countingChain is ETH (real Info and key derivation) with a signer double that
// counts its calls and folds the call number into its output: a transaction
// signed twice would differ, so a test can tell a re-submission from a re-signing.
type countingChain struct {
	*evm.Chain
	calls atomic.Int64
	// Decode hides the EVM chain's chain.Decoder, which would read the
	// double's stand-in transactions itself instead of its Intent and Sign.
	Decode struct{}
}

func (c *countingChain) Sign(_ context.Context, req chain.SignRequest) (chain.Signed, error) {
	n := c.calls.Add(1)
	if len(req.Keys) != 1 || req.Keys[0] == "" {
		return chain.Signed{}, fmt.Errorf("%w: want one key", chain.ErrInvalidTx)
	}
	if strings.HasPrefix(req.Serialized, "bad") {
		return chain.Signed{}, fmt.Errorf("%w: unparsable", chain.ErrInvalidTx)
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%d", req.Keys[0], req.Serialized, n))
	id := sha256.Sum256(h[:])
	return chain.Signed{TxData: "0x" + hex.EncodeToString(h[:]), TxID: "0x" + hex.EncodeToString(id[:])}, nil
}

// Intent decodes the double's stand-in transactions: the serialized string
// is the one transfer's recipient, so a test can tell which transaction an
// approval request describes; Sign decides what is unsignable.
func (c *countingChain) Intent(serialized string, testnet bool, _ ...uint64) (intent.Intent, error) {
	return intent.Intent{Chain: "ETH", Network: chain.NetworkName(testnet), Signers: []string{},
		Transfers: []intent.Transfer{{To: serialized, Amount: "1"}}}, nil
}

func lookupOf(c chain.Chain) func(string) (chain.Chain, error) {
	return func(code string) (chain.Chain, error) {
		if strings.EqualFold(code, c.Info().Code) {
			return c, nil
		}
		return nil, chain.UnknownChainError(code)
	}
}

const (
	sigPK  = "0b1e0c3a-0000-4000-8000-000000000001"
	sigMn  = "0b1e0c3a-0000-4000-8000-000000000002"
	sigOth = "0b1e0c3a-0000-4000-8000-000000000003"
	// A BIP-39 test mnemonic (all-zero entropy), public and holding nothing.
	testMnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	testPK       = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
)

func u32(v uint32) *uint32 { return &v }

func txID(n int) string { return fmt.Sprintf("65f1c0de%016x", n) }

type harness struct {
	t      *testing.T
	api    *fakeAPI
	keys   *memKeys
	chain  *countingChain
	ledger string
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, api: newFakeAPI(t), chain: &countingChain{Chain: evm.ETH},
		ledger: filepath.Join(t.TempDir(), "ledger.db")}
	h.keys = newMemKeys(
		Wallet{WalletRef: WalletRef{SignatureID: sigPK, Chain: "ETH", Testnet: true}, PrivateKey: testPK},
		Wallet{WalletRef: WalletRef{SignatureID: sigMn, Chain: "ETH", Testnet: true}, Mnemonic: testMnemonic},
	)
	return h
}

func (h *harness) daemon(mod func(*Config)) *Daemon {
	cfg := Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: h.ledger, Lookup: lookupOf(h.chain), Concurrency: 4}
	if mod != nil {
		mod(&cfg)
	}
	d, err := New(cfg, h.api.client(), h.keys)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { d.Close() })
	return d
}

func (h *harness) queueThree() {
	h.api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "tx-one", Hashes: []string{sigPK}})
	h.api.add(PendingTx{ID: txID(2), Chain: "ETH", SerializedTransaction: "tx-two", Hashes: []string{sigMn}, Index: u32(3)})
	h.api.add(PendingTx{ID: txID(3), Chain: "ETH", SerializedTransaction: "tx-three", Hashes: []string{sigOth}})
}

func TestRunOnceSignsRecordsAndSubmits(t *testing.T) {
	h := newHarness(t)
	h.queueThree()
	d := h.daemon(nil)
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum != (Summary{Pending: 2, Signed: 2, Submitted: 2}) {
		t.Fatalf("summary %+v", sum)
	}
	if got := h.chain.calls.Load(); got != 2 {
		t.Fatalf("signer called %d times, want 2", got)
	}
	if n := len(h.api.submitted(txID(3))); n != 0 {
		t.Fatalf("foreign transaction submitted %d times", n)
	}
	entries, err := d.ledger.Lookup(t.Context(), []string{txID(1), txID(2)})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{txID(1), txID(2)} {
		sub := h.api.submitted(id)
		if len(sub) != 1 || entries[id].TxData != sub[0] {
			t.Fatalf("%s: submitted %v, ledger %q", id, sub, entries[id].TxData)
		}
	}
	// Completed transactions are no longer pending: a second run does nothing.
	sum, err = d.RunOnce(t.Context())
	if err != nil || sum != (Summary{}) {
		t.Fatalf("second run: %+v %v", sum, err)
	}
}

func TestMnemonicWalletUsesDerivedKeyAtIndex(t *testing.T) {
	h := newHarness(t)
	var got []string
	rec := &recordingChain{countingChain: h.chain, keys: &got}
	h.api.add(PendingTx{ID: txID(2), Chain: "ETH", SerializedTransaction: "tx", Hashes: []string{sigMn}, Index: u32(3)})
	d := h.daemon(func(c *Config) { c.Lookup = lookupOf(rec) })
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	seed, _ := chain.Seed(testMnemonic)
	want, err := evm.ETH.PrivateKey(seed, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != want {
		t.Fatal("signer did not receive the key derived at index 3 of the testnet path")
	}
}

type recordingChain struct {
	*countingChain
	mu   sync.Mutex
	keys *[]string
}

func (c *recordingChain) Sign(ctx context.Context, req chain.SignRequest) (chain.Signed, error) {
	c.mu.Lock()
	*c.keys = append(*c.keys, req.Keys...)
	c.mu.Unlock()
	return c.countingChain.Sign(ctx, req)
}

// approvalServer verifies every request's HMAC and answers status when it is valid.
type approvalServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	requests int
	bad      int
	bodies   []string
	status   int
	// reply, when set, is the body of every answer.
	reply string
}

func newApprovalServer(t *testing.T, secret []byte, status int) *approvalServer {
	a := &approvalServer{status: status}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		defer a.mu.Unlock()
		a.requests++
		if err := VerifyApproval(secret, r, body, time.Now(), time.Minute); err != nil {
			a.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/approve/") {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		a.bodies = append(a.bodies, r.Method+" "+r.URL.Path+" "+string(body))
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.reply)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// approver speaks v1, the protocol these older tests were written for.
func approver(t *testing.T, url, method string, secret []byte) *Approver {
	a, err := NewApprover(ApproverConfig{URL: url + "/approve", Protocol: ProtocolV1, Method: method, Secret: secret, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestApprovalGatesSigning(t *testing.T) {
	secret := []byte("shared approval secret")
	for _, tc := range []struct {
		name     string
		status   int
		method   string
		secret   []byte
		down     bool
		approved bool
	}{
		{name: "GET 200 approves", status: 200, method: "GET", secret: secret, approved: true},
		{name: "POST 204 approves", status: 204, method: "POST", secret: secret, approved: true},
		{name: "POST 302 rejects", status: 302, method: "POST", secret: secret},
		{name: "401 is no refusal", status: 401, method: "GET", secret: secret},
		{name: "404 is no refusal", status: 404, method: "GET", secret: secret},
		{name: "429 is no refusal", status: 429, method: "GET", secret: secret},
		{name: "500 rejects", status: 500, method: "POST", secret: secret},
		{name: "wrong secret rejected by the service", status: 200, method: "POST", secret: []byte("another secret")},
		{name: "service down rejects", status: 200, method: "GET", secret: secret, down: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.queueThree()
			as := newApprovalServer(t, secret, tc.status)
			ap := approver(t, as.srv.URL, tc.method, tc.secret)
			if tc.down {
				as.srv.Close()
			}
			d := h.daemon(func(c *Config) { c.Approval = ap })
			sum, err := d.RunOnce(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !tc.approved {
				if sum.Rejected != 2 || sum.Signed != 0 || h.chain.calls.Load() != 0 {
					t.Fatalf("summary %+v, signer calls %d: want nothing signed", sum, h.chain.calls.Load())
				}
				if len(h.api.submitted(txID(1)))+len(h.api.submitted(txID(2))) != 0 {
					t.Fatal("a rejected transaction was submitted")
				}
				// Left pending: still served by the API.
				txs, err := h.api.client().Pending(t.Context(), "ETH", []string{sigPK, sigMn}, 0)
				if err != nil || len(txs) != 2 {
					t.Fatalf("pending after rejection: %d %v", len(txs), err)
				}
				if r := h.api.errorsReported(); len(r) != 0 {
					t.Fatalf("not approved yet, yet reported: %+v", r)
				}
				if tc.secret != nil && string(tc.secret) != string(secret) && as.bad != 2 {
					t.Fatalf("service saw %d bad signatures, want 2", as.bad)
				}
				return
			}
			if sum.Signed != 2 || sum.Submitted != 2 || as.bad != 0 || len(as.bodies) != 2 {
				t.Fatalf("summary %+v, bad %d, approved %v", sum, as.bad, as.bodies)
			}
			for _, b := range as.bodies {
				if tc.method == "POST" && !strings.Contains(b, `"serializedTransaction":"tx-`) {
					t.Fatalf("POST approval body lacks the transaction: %s", b)
				}
				if tc.method == "GET" && !strings.HasPrefix(b, "GET /approve/"+txID(0)[:8]) {
					t.Fatalf("GET approval request %q", b)
				}
			}
		})
	}
}

func TestApprovalRefusalEndsTransaction(t *testing.T) {
	secret := []byte("shared approval secret")
	for _, status := range []int{403, 409, 410} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			h := newHarness(t)
			h.queueThree()
			as := newApprovalServer(t, secret, status)
			as.reply = " over the daily limit \n"
			ap := approver(t, as.srv.URL, "GET", secret)
			h.api.failBatch = 1 // the first report is lost
			d := h.daemon(func(c *Config) { c.Approval = ap })
			sum, err := d.RunOnce(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if sum.Rejected != 2 || sum.Signed != 0 || h.chain.calls.Load() != 0 || as.requests != 2 {
				t.Fatalf("summary %+v, signer calls %d, approval requests %d", sum, h.chain.calls.Load(), as.requests)
			}
			if r := h.api.errorsReported(); len(r) != 0 {
				t.Fatalf("reports taken despite the failure: %+v", r)
			}
			// The next run does not ask again; it reports the refusals the
			// API did not take.
			if _, err := d.RunOnce(t.Context()); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("refused by the approval service: HTTP %d: over the daily limit", status)
			r := h.api.errorsReported()
			if as.requests != 2 || len(r) != 2 {
				t.Fatalf("approval requests %d, reports %+v", as.requests, r)
			}
			for _, e := range r {
				if !e.Refused || e.Error != want {
					t.Fatalf("report %+v, want refused with %q", e, want)
				}
			}
			// Reported once: neither a later run nor a restarted daemon (the
			// fake API keeps serving them) asks or reports again.
			if _, err := d.RunOnce(t.Context()); err != nil {
				t.Fatal(err)
			}
			d.Close()
			d2 := h.daemon(func(c *Config) { c.Approval = ap })
			if _, err := d2.RunOnce(t.Context()); err != nil {
				t.Fatal(err)
			}
			if as.requests != 2 || len(h.api.errorsReported()) != 2 || h.chain.calls.Load() != 0 {
				t.Fatalf("after restart: approval requests %d, reports %d, signer calls %d",
					as.requests, len(h.api.errorsReported()), h.chain.calls.Load())
			}
		})
	}
}

func TestApprovalTimeoutRejects(t *testing.T) {
	secret := []byte("s")
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	ap, err := NewApprover(ApproverConfig{URL: slow.URL, Protocol: ProtocolV1, Secret: secret, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = ap.Approve(t.Context(), Subject{Tx: PendingTx{ID: txID(1)}})
	if !errors.Is(err, ErrNotApproved) {
		t.Fatalf("timeout: %v, want ErrNotApproved", err)
	}
}

func TestApprovalMACCanonicalString(t *testing.T) {
	// Recomputed by hand from the documented canonical string.
	got := ApprovalMAC([]byte("k"), "POST", "/approve/abc?x=1", "1700000000", []byte(`{"id":"abc"}`))
	want := "sha256=" + hmacHex([]byte("k"), "POST\n/approve/abc?x=1\n1700000000\n"+`{"id":"abc"}`)
	if got != want {
		t.Fatalf("mac %s, want %s", got, want)
	}
	if _, err := NewApprover(ApproverConfig{URL: "http://127.0.0.1:1/a"}); !errors.Is(err, ErrConfig) {
		t.Fatalf("approver without secret: %v", err)
	}
	if _, err := NewApprover(ApproverConfig{URL: "http://127.0.0.1:1/a", Method: "PUT", Secret: []byte("s")}); !errors.Is(err, ErrConfig) {
		t.Fatalf("approver with PUT: %v", err)
	}
}

func TestRestartResubmitsTheRecordedTransaction(t *testing.T) {
	h := newHarness(t)
	h.api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "tx-one", Hashes: []string{sigPK}})
	// The process "dies" between the ledger write and a successful submission:
	// every submission attempt fails.
	h.api.failBroadcast = func(string) int { return http.StatusServiceUnavailable }
	d1 := h.daemon(nil)
	sum, err := d1.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Signed != 1 || sum.Submitted != 0 || sum.Failed != 1 {
		t.Fatalf("first run %+v", sum)
	}
	first := h.api.submitted(txID(1))
	if len(first) < 2 {
		t.Fatalf("submission not retried: %d attempts", len(first))
	}
	if rep := h.api.errorsReported(); len(rep) != 1 || rep[0].SignatureID != txID(1) || !strings.HasPrefix(rep[0].Error, "submit:") {
		t.Fatalf("reported %+v", rep)
	}
	if err := d1.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart on the same ledger file: the API accepts now.
	h.api.failBroadcast = nil
	d2 := h.daemon(nil)
	sum, err = d2.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum != (Summary{Pending: 1, Resubmitted: 1, Submitted: 1}) {
		t.Fatalf("after restart %+v", sum)
	}
	if n := h.chain.calls.Load(); n != 1 {
		t.Fatalf("signed %d times, want once", n)
	}
	all := h.api.submitted(txID(1))
	for _, s := range all {
		if s != first[0] {
			t.Fatal("a second, different transaction was submitted for the same id")
		}
	}
}

func TestSecondDaemonOnSameLedgerRefused(t *testing.T) {
	h := newHarness(t)
	h.daemon(nil)
	_, err := New(Config{Chains: []string{"ETH"}, LedgerPath: h.ledger, Lookup: lookupOf(h.chain)}, h.api.client(), h.keys)
	if !errors.Is(err, ErrLedgerLocked) {
		t.Fatalf("second daemon: %v, want ErrLedgerLocked", err)
	}
}

func TestSigningFailuresAreReported(t *testing.T) {
	h := newHarness(t)
	h.api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "bad-tx", Hashes: []string{sigPK}})
	h.api.add(PendingTx{ID: txID(2), Chain: "ETH", SerializedTransaction: "tx", Hashes: []string{sigMn}}) // no index
	h.api.add(PendingTx{ID: txID(3), Chain: "ETH", SerializedTransaction: "tx", Hashes: []string{sigPK}})
	h.api.failBroadcast = func(id string) int {
		if id == txID(3) {
			return http.StatusBadRequest
		}
		return 0
	}
	d := h.daemon(nil)
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 3 || sum.Submitted != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if n := len(h.api.submitted(txID(3))); n != 1 {
		t.Fatalf("a 4xx submission was retried: %d attempts", n)
	}
	rep := map[string]string{}
	for _, e := range h.api.errorsReported() {
		rep[e.SignatureID] = e.Error
	}
	if !strings.HasPrefix(rep[txID(1)], "sign:") || !strings.Contains(rep[txID(2)], "index") || !strings.HasPrefix(rep[txID(3)], "submit:") {
		t.Fatalf("reports %v", rep)
	}
	for _, msg := range rep {
		if strings.Contains(msg, testPK[2:]) || strings.Contains(msg, "abandon") {
			t.Fatal("a secret leaked into an error report")
		}
	}
}

func TestWrongNetworkWalletRefused(t *testing.T) {
	h := newHarness(t)
	mainnet := "0b1e0c3a-0000-4000-8000-00000000000a"
	h.keys.put(Wallet{WalletRef: WalletRef{SignatureID: mainnet, Chain: "ETH", Testnet: false}, PrivateKey: testPK})
	bsc := "0b1e0c3a-0000-4000-8000-00000000000b"
	h.keys.put(Wallet{WalletRef: WalletRef{SignatureID: bsc, Chain: "BSC", Testnet: true}, PrivateKey: testPK})
	// Matched through the second hash, which is ours; the first names the key.
	h.api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "tx", Hashes: []string{mainnet, sigPK}})
	h.api.add(PendingTx{ID: txID(2), Chain: "ETH", SerializedTransaction: "tx", Hashes: []string{bsc, sigPK}})
	d := h.daemon(nil)
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 2 || h.chain.calls.Load() != 0 {
		t.Fatalf("summary %+v, signer calls %d", sum, h.chain.calls.Load())
	}
	h.api.mu.Lock()
	defer h.api.mu.Unlock()
	if h.api.chunks[0] != 2 {
		t.Fatalf("asked for %d signature IDs, want only the 2 testnet ETH wallets", h.api.chunks[0])
	}
}

func TestChunkingLargeSignatureList(t *testing.T) {
	h := newHarness(t)
	const n = 25_000
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("0b1e0c3a-0000-4000-8000-%012d", 100+i)
		h.keys.put(Wallet{WalletRef: WalletRef{SignatureID: ids[i], Chain: "ETH", Testnet: true}, PrivateKey: testPK})
	}
	// Two wallets of each transaction fall in different chunks: it must be signed once.
	h.api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "tx-a", Hashes: []string{ids[10], ids[20_000]}})
	h.api.add(PendingTx{ID: txID(2), Chain: "ETH", SerializedTransaction: "tx-b", Hashes: []string{ids[n-1]}})
	d := h.daemon(func(c *Config) { c.ChunkSize = 4000 })
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum != (Summary{Pending: 2, Signed: 2, Submitted: 2}) {
		t.Fatalf("summary %+v", sum)
	}
	h.api.mu.Lock()
	defer h.api.mu.Unlock()
	total := 0
	for _, c := range h.api.chunks {
		if c > 4000 {
			t.Fatalf("chunk of %d ids", c)
		}
		total += c
	}
	if len(h.api.chunks) != 7 || total != n+2 {
		t.Fatalf("%d chunks, %d ids", len(h.api.chunks), total)
	}
}

func TestFiltersWalletsAndTransactionIDs(t *testing.T) {
	h := newHarness(t)
	h.queueThree()
	h.api.add(PendingTx{ID: txID(4), Chain: "ETH", SerializedTransaction: "tx-four", Hashes: []string{sigPK}})
	d := h.daemon(func(c *Config) {
		c.Wallets = []string{sigPK}
		c.TransactionIDs = []string{txID(4), txID(2)}
	})
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Submitted != 1 || len(h.api.submitted(txID(4))) != 1 {
		t.Fatalf("summary %+v", sum)
	}
}

func TestAPIRetriesOn5xxNotOn4xx(t *testing.T) {
	h := newHarness(t)
	h.queueThree()
	h.api.failPending, h.api.failPendingStatus = 2, http.StatusBadGateway
	d := h.daemon(nil)
	sum, err := d.RunOnce(t.Context())
	if err != nil || sum.Submitted != 2 {
		t.Fatalf("after two 502s: %+v %v", sum, err)
	}

	h2 := newHarness(t)
	h2.queueThree()
	h2.api.failPending, h2.api.failPendingStatus = 5, http.StatusForbidden
	d2 := h2.daemon(nil)
	_, err = d2.RunOnce(t.Context())
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 403 || he.Code != "fake.failure" || h2.api.pendingCalls != 1 {
		t.Fatalf("4xx: %v after %d calls", err, h2.api.pendingCalls)
	}
	if strings.Contains(err.Error(), testAPIKey) {
		t.Fatal("API key in an error")
	}
}

func TestRunSeesNewWalletsAndStopsOnCancel(t *testing.T) {
	h := newHarness(t)
	h.api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "tx", Hashes: []string{sigOth}})
	d := h.daemon(func(c *Config) { c.Period = 10 * time.Millisecond })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	// Added while running, as the CLI would.
	h.keys.put(Wallet{WalletRef: WalletRef{SignatureID: sigOth, Chain: "ETH", Testnet: true}, PrivateKey: testPK})
	deadline := time.After(5 * time.Second)
	for len(h.api.submitted(txID(1))) == 0 {
		select {
		case <-deadline:
			t.Fatal("wallet added at run time was never used")
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestMetricsCountOutcomes(t *testing.T) {
	h := newHarness(t)
	h.queueThree()
	h.api.add(PendingTx{ID: txID(5), Chain: "ETH", SerializedTransaction: "bad", Hashes: []string{sigPK}})
	d := h.daemon(nil)
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`custos_daemon_signed_total{chain="ETH"} 2`,
		`custos_daemon_submitted_total{chain="ETH"} 2`,
		`custos_daemon_failed_total{chain="ETH"} 1`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	h := newHarness(t)
	for name, cfg := range map[string]Config{
		"no chain":      {LedgerPath: h.ledger},
		"unknown chain": {Chains: []string{"NOPE"}, LedgerPath: h.ledger},
		"no ledger":     {Chains: []string{"ETH"}, Lookup: lookupOf(h.chain)},
		"no signer":     {Chains: []string{"ETH"}, LedgerPath: h.ledger, Lookup: lookupOf(&struct{ chain.Chain }{evm.ETH})},
	} {
		if _, err := New(cfg, h.api.client(), h.keys); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}

func TestShutdownLetsInFlightTransactionFinish(t *testing.T) {
	h := newHarness(t)
	h.queueThree()
	h.api.add(PendingTx{ID: txID(4), Chain: "ETH", SerializedTransaction: "tx-four", Hashes: []string{sigPK}})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Shutdown begins while the first transaction is being submitted.
	h.api.failBroadcast = func(string) int {
		cancel()
		time.Sleep(20 * time.Millisecond)
		return 0
	}
	d := h.daemon(func(c *Config) { c.Concurrency = 1 })
	sum, err := d.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Pending != 3 || sum.Signed != 1 || sum.Submitted != 1 {
		t.Fatalf("summary %+v: want the in-flight transaction submitted and no new one started", sum)
	}
}
