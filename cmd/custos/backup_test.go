package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/sqlite"
	"github.com/custoskms/custos/internal/vectors"
	"github.com/custoskms/custos/internal/walletstore"
)

// signingAPI is a pending-transaction API that hands the daemon one signing
// vector's transaction under a new pending id at every poll, so that a
// running daemon keeps reading keys from the store and signing.
type signingAPI struct {
	tx map[string]any

	mu     sync.Mutex
	signed []string // txData of each broadcast
}

func newSigningAPI(t *testing.T, v vectors.Signing) *signingAPI {
	raw, _ := json.Marshal(v.PendingTransaction)
	api := &signingAPI{}
	if err := json.Unmarshal(raw, &api.tx); err != nil {
		t.Fatal(err)
	}
	return api
}

func (f *signingAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/kms/pending/{chain}", func(w http.ResponseWriter, r *http.Request) {
		tx := map[string]any{}
		for k, v := range f.tx {
			tx[k] = v
		}
		tx["id"] = pending.NewID()
		_ = json.NewEncoder(w).Encode([]any{tx})
	})
	mux.HandleFunc("POST /v3/{slug}/broadcast", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ TxData string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.signed = append(f.signed, body.TxData)
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"txId": "0x" + strings.Repeat("1", 64), "completed": true})
	})
	mux.HandleFunc("POST /v3/tatum/kms/batch", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	return mux
}

func (f *signingAPI) signatures() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.signed...)
}

// waitFor polls cond until it holds, failing the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// cliOK runs one command that must succeed and decodes its JSON answer into v.
func cliOK(t *testing.T, v any, stdin string, args ...string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, stdin, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(stdout), v); err != nil {
			t.Fatalf("%v: output %q", args, stdout)
		}
	}
}

// cliError runs one command that must fail and returns its JSON error.
func cliError(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	stdout, stderr, code := runCLI(t, stdin, args...)
	var e struct{ Error string }
	if code == 0 || json.Unmarshal([]byte(stderr), &e) != nil || e.Error == "" {
		t.Fatalf("%v: exit %d, stdout %q, stderr %q; want a JSON error", args, code, stdout, stderr)
	}
	return e.Error
}

// The backup is taken while four writers add wallets through the CLI and a
// daemon signs from the same store: it verifies, and holds every wallet a
// writer had been told was stored before the backup began.
func TestBackupWhileWritersAddAndDaemonSigns(t *testing.T) {
	v, want, path := ethVectorStore(t)
	dir := filepath.Dir(path)
	// A store of some size, so that copying it overlaps the writers' commits.
	fillStore(t, path, 3000)
	t.Setenv("CUSTOS_PASSWORD", signTestPassword)
	api := newSigningAPI(t, v)
	srv := httptest.NewServer(api.handler())
	defer srv.Close()
	t.Setenv("CUSTOS_API_URL", srv.URL)
	t.Setenv("CUSTOS_API_KEY", "backup-test-api-key")

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var (
		wg      sync.WaitGroup
		started atomic.Bool // set just before the backup begins
		mu      sync.Mutex
		before  []string // acknowledged while started was false
		acked   atomic.Int64
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		var out, errb bytes.Buffer
		code := run(ctx, []string{"daemon", "--period", "20ms", "--testnet", "--chain", "ETH", "--path", path,
			"--ledger", filepath.Join(dir, "ledger.db")}, strings.NewReader(""), &out, &errb)
		if code != 0 && ctx.Err() == nil {
			t.Errorf("daemon: exit %d: %s", code, errb.String())
		}
	}()
	const key = "0xe01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc"
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				var out, errb bytes.Buffer
				args := []string{"--path", path, "storemanagedprivatekey", "ETH"}
				if code := run(context.Background(), args, strings.NewReader(key+"\n"), &out, &errb); code != 0 {
					t.Errorf("writer %d: exit %d: %s", i, code, errb.String())
					return
				}
				var s sigOut
				if err := json.Unmarshal(out.Bytes(), &s); err != nil || s.SignatureID == "" {
					t.Errorf("writer %d: output %q", i, out.String())
					return
				}
				// Read after the answer: false means the answer came before
				// the backup began.
				if !started.Load() {
					mu.Lock()
					before = append(before, s.SignatureID)
					mu.Unlock()
				}
				acked.Add(1)
			}
		}()
	}

	waitFor(t, "the writers and the daemon", func() bool { return acked.Load() >= 20 && len(api.signatures()) >= 1 })
	signedBefore := len(api.signatures())
	backupFile := filepath.Join(t.TempDir(), "wallet.backup")
	started.Store(true)
	var taken backupReport
	cliOK(t, &taken, "", "--path", path, "backup", "--out", backupFile)
	ackedAtBackup := acked.Load()
	waitFor(t, "more wallets and signatures", func() bool {
		return acked.Load() >= ackedAtBackup+8 && len(api.signatures()) > signedBefore
	})
	stop()
	wg.Wait()
	if t.Failed() {
		return
	}

	if fi, err := os.Stat(backupFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v; want mode 0600", fi, err)
	}
	head, _ := os.ReadFile(backupFile)
	if !bytes.HasPrefix(head, []byte("custos-backup 1\n{\"store\":\"wallet\",\"format\":1,")) {
		t.Fatalf("backup header %q", head[:min(len(head), 80)])
	}
	var verified backupReport
	cliOK(t, &verified, "", "backup", "verify", backupFile)
	if verified.Store != "wallet" || verified.Wallets == nil || *verified.Wallets != *taken.Wallets {
		t.Fatalf("verify: %+v, backup: %+v", verified, taken)
	}
	restored := filepath.Join(t.TempDir(), "restored.dat")
	cliOK(t, nil, "", "--path", restored, "backup", "restore", backupFile)
	s, err := walletstore.Open(t.Context(), restored, []byte(signTestPassword), walletstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids, err := s.IDs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	for _, id := range ids {
		held[id] = true
	}
	for _, id := range before {
		if !held[id] {
			t.Fatalf("wallet %s was acknowledged before the backup began but is not in it", id)
		}
	}
	for _, sig := range api.signatures() {
		if sig != want.Signed {
			t.Fatalf("the daemon signed %q, want the reference transaction", sig)
		}
	}
	t.Logf("backup holds %d wallets (%d acknowledged before it began, %d in all); daemon signed %d times",
		len(ids), len(before), acked.Load(), len(api.signatures()))
}

// One flipped byte inside a wallet record: verify fails and names that
// record, and restore refuses the backup.
func TestBackupVerifyNamesTheDamagedRecord(t *testing.T) {
	cheapStoreKDF(t)
	t.Setenv("CUSTOS_PASSWORD", signTestPassword)
	path := filepath.Join(t.TempDir(), "wallet.dat")
	for range 3 {
		cliOK(t, nil, "", "--path", path, "generatemanagedwallet", "ETH", "--testnet")
	}
	backupFile := filepath.Join(t.TempDir(), "wallet.backup")
	cliOK(t, nil, "", "--path", path, "backup", "--out", backupFile)
	cliOK(t, nil, "", "backup", "verify", backupFile)

	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var id string
	var rec []byte
	err = db.QueryRow("SELECT id, record FROM wallets ORDER BY id LIMIT 1 OFFSET 1").Scan(&id, &rec)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(backupFile)
	at := bytes.Index(b, rec)
	if at < 0 || bytes.Index(b[at+1:], rec) >= 0 {
		t.Fatal("the record is not in the backup exactly once")
	}
	b[at+len(rec)/2] ^= 0x01
	if err := os.WriteFile(backupFile, b, 0o600); err != nil {
		t.Fatal(err)
	}

	msg := cliError(t, "", "backup", "verify", backupFile)
	if !strings.Contains(msg, "record "+id+" fails authentication") || !strings.Contains(msg, "checksum mismatch") {
		t.Fatalf("verify: %q; want it to name record %s and the checksum", msg, id)
	}
	restored := filepath.Join(t.TempDir(), "restored.dat")
	if msg := cliError(t, "", "--path", restored, "backup", "restore", backupFile); !strings.Contains(msg, "checksum mismatch") {
		t.Fatalf("restore of a damaged backup: %q", msg)
	}
	if _, err := os.Stat(restored); !os.IsNotExist(err) {
		t.Fatalf("restore of a damaged backup left %s: %v", restored, err)
	}
}

// A store put back from a backup signs every signing vector's transaction
// as the original does.
func TestRestoredStoreSignsTheVectors(t *testing.T) {
	cheapStoreKDF(t)
	t.Setenv("CUSTOS_PASSWORD", signTestPassword)
	rows := signableRows(t)
	for _, v := range rows {
		name := v.Chain + "/" + v.Format + "/" + v.PendingTransaction.ID
		var want expectedSigned
		if err := json.Unmarshal(v.Expected, &want); err != nil {
			t.Fatal(err)
		}
		backupFile := filepath.Join(t.TempDir(), "wallet.backup")
		cliOK(t, nil, "", "--path", storeForVector(t, v), "backup", "--out", backupFile)
		restored := filepath.Join(t.TempDir(), "restored.dat")
		cliOK(t, nil, "", "--path", restored, "backup", "restore", backupFile)
		args := []string{"sign", "--path", restored}
		if v.Testnet {
			args = append(args, "--testnet")
		}
		ptx, _ := json.Marshal(v.PendingTransaction)
		var got struct{ TxData, TxID string }
		cliOK(t, &got, string(ptx), args...)
		if got.TxData != want.Signed || got.TxID != want.TxID {
			t.Errorf("%s: restored store signed %s %s, want %s %s", name, got.TxData, got.TxID, want.Signed, want.TxID)
		}
	}
	t.Logf("%d vectors signed from restored stores", len(rows))
}

// The SQLite pending store is backed up while serve's store takes new
// transactions, and restored to a file that opens with every transaction
// created before the backup began.
func TestBackupPendingSQLite(t *testing.T) {
	ctx := t.Context()
	dbPath := filepath.Join(t.TempDir(), "custos.db")
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	create := func() string {
		ids, err := st.Create(ctx, "", pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{walletstore.NewID()}})
		if err != nil {
			t.Error(err)
			return ""
		}
		return ids[0]
	}
	var before []string
	for range 10 {
		before = append(before, create())
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			create()
		}
	}()
	backupFile := filepath.Join(t.TempDir(), "pending.backup")
	var taken backupReport
	cliOK(t, &taken, "", "backup", "--database", "sqlite:"+dbPath, "--out", backupFile)
	<-done
	if taken.Store != "pending-sqlite" || taken.Format < 1 || taken.Wallets != nil {
		t.Fatalf("backup: %+v", taken)
	}
	cliOK(t, nil, "", "backup", "verify", backupFile)
	restored := filepath.Join(t.TempDir(), "restored.db")
	if msg := cliError(t, "", "--path", restored, "backup", "restore", backupFile); !strings.Contains(msg, "--database") {
		t.Fatalf("pending restore without --database: %q", msg)
	}
	cliOK(t, nil, "", "backup", "restore", backupFile, "--database", "sqlite:"+restored)
	rs, err := sqlite.Open(ctx, restored)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for _, id := range before {
		if _, err := rs.Get(ctx, "", id); err != nil {
			t.Fatalf("transaction %s created before the backup: %v", id, err)
		}
	}
	if msg := cliError(t, "", "backup", "--database", "postgres://u:p@localhost/custos", "--out", backupFile); !strings.Contains(msg, "pg_dump") {
		t.Fatalf("PostgreSQL backup: %q", msg)
	}
}

// Restore does not replace a store unless told to, and never one with a
// journal beside it; a wallet backup does not go to --database.
func TestBackupRestoreRefusals(t *testing.T) {
	cheapStoreKDF(t)
	t.Setenv("CUSTOS_PASSWORD", signTestPassword)
	path := filepath.Join(t.TempDir(), "wallet.dat")
	cliOK(t, nil, "", "--path", path, "generatemanagedwallet", "ETH")
	backupFile := filepath.Join(t.TempDir(), "wallet.backup")
	cliOK(t, nil, "", "--path", path, "backup", "--out", backupFile)

	target := filepath.Join(t.TempDir(), "other.dat")
	cliOK(t, nil, "", "--path", target, "generatemanagedwallet", "BTC")
	if msg := cliError(t, "", "--path", target, "backup", "restore", backupFile); !strings.Contains(msg, "--force") {
		t.Fatalf("restore over a store: %q", msg)
	}
	if err := os.WriteFile(target+"-journal", []byte("hot"), 0o600); err != nil {
		t.Fatal(err)
	}
	if msg := cliError(t, "", "--path", target, "backup", "restore", "--force", backupFile); !strings.Contains(msg, "journal") {
		t.Fatalf("restore over a store with a journal: %q", msg)
	}
	os.Remove(target + "-journal")
	if msg := cliError(t, "", "--path", target, "backup", "restore", backupFile, "--database", "sqlite:"+target); !strings.Contains(msg, "wallet store") {
		t.Fatalf("wallet backup to --database: %q", msg)
	}
	cliOK(t, nil, "", "--path", target, "backup", "restore", "--force", backupFile)
	before, _ := os.ReadFile(path)
	after, _ := os.ReadFile(target)
	if len(before) == 0 || len(after) == 0 {
		t.Fatal("empty store")
	}
	var a, b map[string]json.RawMessage
	cliOK(t, &a, "", "--path", path, "export")
	cliOK(t, &b, "", "--path", target, "export")
	if len(a) != 1 || len(b) != 1 || string(mustJSON(t, a)) != string(mustJSON(t, b)) {
		t.Fatalf("restored store exports %v, the original %v", b, a)
	}
	// Both acts on the wallet store are in the audit log beside it.
	for file, event := range map[string]string{path: `"event":"store.backed_up"`, target: `"event":"store.restored"`} {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(file), "audit.log"))
		if !strings.Contains(string(log), event) || !strings.Contains(string(log), backupFile) {
			t.Fatalf("audit log beside %s has no %s naming the backup", file, event)
		}
	}
	if msg := cliError(t, "", "--path", path, "backup", "--out", path); !strings.Contains(msg, "the store itself") {
		t.Fatalf("backup over its own store: %q", msg)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Fatal("a refused backup changed the store")
	}
	if msg := cliError(t, "", "backup", "verify", path); !strings.Contains(msg, "not a Custos backup") {
		t.Fatalf("verify of a store file: %q", msg)
	}
}

// fillStore adds n wallets to the store at path.
func fillStore(t *testing.T, path string, n int) {
	s, err := walletstore.Open(t.Context(), path, []byte(signTestPassword), walletstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	entries := make([]walletstore.Entry, n)
	for i := range entries {
		entries[i] = walletstore.Entry{ID: walletstore.NewID(), Wallet: &walletstore.Wallet{Chain: "ETH", PrivateKey: "0x" + strings.Repeat("ab", 32)}}
	}
	if err := s.PutMany(t.Context(), entries); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
