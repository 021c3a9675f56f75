package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/vectors"
)

// daemonAPI is a minimal double of the pending-transaction API for the
// daemon's wiring: the routes the daemon calls, over a fixed list.
type daemonAPI struct {
	mu        sync.Mutex
	pending   []json.RawMessage
	ids       []string
	submitted map[string]string
	apiKeys   []string
	leases    []int // leaseSeconds of each pending request
	batchAsks int   // batch broadcast requests, answered as an API without the route
}

func (f *daemonAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/kms/pending/{chain}", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			SignatureIDs []string `json:"signatureIds"`
			LeaseSeconds int      `json:"leaseSeconds"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.apiKeys = append(f.apiKeys, r.Header.Get("X-API-Key"))
		f.leases = append(f.leases, body.LeaseSeconds)
		out := []json.RawMessage{}
		for i, p := range f.pending {
			var tx struct {
				Chain  string   `json:"chain"`
				Hashes []string `json:"hashes"`
			}
			_ = json.Unmarshal(p, &tx)
			if _, done := f.submitted[f.ids[i]]; done || tx.Chain != r.PathValue("chain") {
				continue
			}
			if slices.ContainsFunc(tx.Hashes, func(h string) bool { return slices.Contains(body.SignatureIDs, h) }) {
				out = append(out, p)
			}
		}
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("POST /v3/{slug}/broadcast", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ TxData, SignatureID string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.submitted[body.SignatureID] = body.TxData
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"txId": "0x" + strings.Repeat("1", 64), "completed": true})
	})
	mux.HandleFunc("POST /v3/{slug}/broadcast/batch", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.batchAsks++
		f.mu.Unlock()
		http.NotFound(w, r)
	})
	mux.HandleFunc("POST /v3/tatum/kms/batch", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	return mux
}

// serveVector serves v's pending transaction to a daemon until the test ends.
func serveVector(t *testing.T, v vectors.Signing) (*daemonAPI, *httptest.Server) {
	ptx, _ := json.Marshal(v.PendingTransaction)
	api := &daemonAPI{pending: []json.RawMessage{ptx}, ids: []string{v.PendingTransaction.ID}, submitted: map[string]string{}}
	srv := httptest.NewServer(api.handler())
	t.Cleanup(srv.Close)
	return api, srv
}

func TestDaemonRunOnceSignsFromTheWalletStore(t *testing.T) {
	v, want, path := ethVectorStore(t)
	api, srv := serveVector(t, v)

	const apiKey = "daemon-wiring-api-key"
	t.Setenv("CUSTOS_PASSWORD", signTestPassword)
	t.Setenv("TATUM_API_KEY", apiKey) // the Tatum name is accepted
	t.Setenv("CUSTOS_API_URL", srv.URL)
	ledger := filepath.Join(t.TempDir(), "ledger.db")
	stdout, stderr, code := runCLI(t, "", "daemon", "--runOnce", "--testnet", "--chain", "ETH,BSC", "--path", path, "--ledger", ledger)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum struct{ Pending, Signed, Submitted, Failed int }
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.Submitted != 1 || sum.Signed != 1 {
		t.Fatalf("summary %q", stdout)
	}
	if api.submitted[v.PendingTransaction.ID] != want.Signed {
		t.Fatalf("submitted %q, want the reference transaction", api.submitted[v.PendingTransaction.ID])
	}
	if len(api.apiKeys) == 0 || api.apiKeys[0] != apiKey {
		t.Fatal("API key not sent")
	}
	// Logs are JSON lines, and no secret is in them.
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("log line is not JSON: %q", line)
		}
	}
	for _, s := range []string{apiKey, signTestPassword, v.Keys[0].Secret, v.Keys[0].DerivedPrivateKey} {
		if s != "" && strings.Contains(stdout+stderr, s) {
			t.Fatal("a secret reached the output")
		}
	}
}

// The daemon asks for the batch broadcast route unless --broadcast-batch is
// false, and submits on the single route when the API has no batch route.
func TestDaemonBroadcastBatchFlag(t *testing.T) {
	v, want, path := ethVectorStore(t)
	t.Setenv("CUSTOS_PASSWORD", signTestPassword)
	t.Setenv("CUSTOS_API_KEY", "daemon-wiring-api-key")
	for _, c := range []struct {
		args []string
		asks int
	}{{nil, 1}, {[]string{"--broadcast-batch=false"}, 0}} {
		api, srv := serveVector(t, v)
		t.Setenv("CUSTOS_API_URL", srv.URL)
		args := append([]string{"daemon", "--runOnce", "--testnet", "--chain", "ETH", "--path", path,
			"--ledger", filepath.Join(t.TempDir(), "ledger.db")}, c.args...)
		if _, stderr, code := runCLI(t, "", args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
		}
		if api.batchAsks != c.asks || api.submitted[v.PendingTransaction.ID] != want.Signed {
			t.Fatalf("%v: %d batch requests (want %d), submitted %q", c.args, api.batchAsks, c.asks, api.submitted[v.PendingTransaction.ID])
		}
	}
}

// --run-once's exit message says "reported to the API" only of failures
// the API was told of.
func TestRunOnceFailedMessage(t *testing.T) {
	for _, c := range []struct {
		sum  daemon.Summary
		want string
	}{
		{daemon.Summary{Failed: 3}, "3 transaction(s) failed (reported to the API)"},
		{daemon.Summary{Failed: 2, Unreported: 2}, "2 transaction(s) failed, not reported to the API (the audit log could not be written"},
		{daemon.Summary{Failed: 3, Unreported: 1}, "3 transaction(s) failed, 2 of them reported to the API (the others were not"},
	} {
		if got := failedMessage(c.sum); !strings.HasPrefix(got, c.want) {
			t.Errorf("%+v: %q, want %q…", c.sum, got, c.want)
		}
	}
}

func TestDaemonFlagErrors(t *testing.T) {
	cheapStoreKDF(t)
	t.Setenv("CUSTOS_API_KEY", "k")
	t.Setenv("CUSTOS_PASSWORD", "p")
	t.Setenv("CUSTOS_APPROVAL_SECRET", "")
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "approval.key")
	if err := os.WriteFile(secretFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no chain":          {[]string{"daemon", "--runOnce"}, "--chain"},
		"bad chain id":      {[]string{"daemon", "--runOnce", "--chain", "ETH", "--chain-id", "ETH:devnet=5"}, "--chain-id"},
		"no approval key":   {[]string{"daemon", "--runOnce", "--chain", "ETH", "--externalUrl", "http://127.0.0.1:1/ok"}, "CUSTOS_APPROVAL_SECRET"},
		"bad method":        {[]string{"daemon", "--runOnce", "--chain", "ETH", "--externalUrl", "http://127.0.0.1:1/ok", "--externalUrlMethod", "PUT", "--approval-secret-file", secretFile}, "GET or POST"},
		"no secret file":    {[]string{"daemon", "--runOnce", "--chain", "ETH", "--externalUrl", "http://127.0.0.1:1/ok", "--approval-secret-file", filepath.Join(dir, "none")}, "approval secret file"},
		"http approval url": {[]string{"daemon", "--runOnce", "--chain", "ETH", "--externalUrl", "http://approve.example/ok", "--approval-secret-file", secretFile}, "must be https"},
		"bad protocol":      {[]string{"daemon", "--runOnce", "--chain", "ETH", "--approval-protocol", "v3"}, "--approval-protocol"},
		"bad claim limit":   {[]string{"daemon", "--runOnce", "--chain", "ETH", "--claim-limit", "-1"}, "--claim-limit"},
		"no store":          {[]string{"daemon", "--runOnce", "--chain", "ETH", "--path", filepath.Join(dir, "none.dat")}, "does not exist"},
	} {
		stdout, stderr, code := runCLI(t, "", tc.args...)
		if code == 0 || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, stdout, stderr)
		}
	}
}

func TestChainIDFlags(t *testing.T) {
	f := chainIDFlags{"ETH:testnet=1337", "eth:mainnet=7", "BSC=99"}
	test, err := f.extraChainIDs(true)
	if err != nil || !slices.Equal(test["ETH"], []uint64{1337}) || !slices.Equal(test["BSC"], []uint64{99}) {
		t.Fatalf("testnet: %v %v", test, err)
	}
	main, err := f.extraChainIDs(false)
	if err != nil || !slices.Equal(main["ETH"], []uint64{7}) || !slices.Equal(main["BSC"], []uint64{99}) {
		t.Fatalf("mainnet: %v %v", main, err)
	}
	for _, bad := range []string{"ETH", "ETH=x", "ETH=0", "NOPE=1", "ETH:x=1"} {
		if _, err := (chainIDFlags{bad}).extraChainIDs(true); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
