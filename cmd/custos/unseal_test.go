package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// splitCLI runs `seal split` and returns its output.
func splitCLI(t *testing.T, path, stdin string, args ...string) splitOutput {
	t.Helper()
	out, stderr, code := runCLI(t, stdin, append([]string{"seal", "split", "--path", path}, args...)...)
	if code != 0 {
		t.Fatalf("seal split: exit %d: %s", code, stderr)
	}
	var o splitOutput
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("seal split output %q: %v", out, err)
	}
	return o
}

// A split store: the password no longer opens it, k shares typed at the
// CLI do, and splitting again (to age-encrypted shares) keeps the wallets.
// The daemon then starts sealed, signs nothing while one holder has given a
// share, and signs once the second has.
func TestSealSplitAndUnsealDaemon(t *testing.T) {
	v, want, path := ethVectorStore(t)
	t.Setenv("CUSTOS_PASSWORD", signTestPassword)

	first := splitCLI(t, path, "", "--shares", "3", "--threshold", "2")
	if len(first.Holders) != 3 || first.Threshold != 2 || first.Holders[0].Share == "" {
		t.Fatalf("split output %+v", first)
	}
	if _, stderr, code := runCLI(t, "", "export", "--path", path); code == 0 || !strings.Contains(stderr, "split-protected") {
		t.Fatalf("export with the password after a split: exit %d %s", code, stderr)
	}
	shares := first.Holders[2].Share + "\n" + first.Holders[0].Share + "\n"
	out, stderr, code := runCLI(t, shares, "export", "--path", path)
	if code != 0 || !strings.Contains(out, v.Keys[0].SignatureID) {
		t.Fatalf("export with 2 shares: exit %d %s", code, stderr)
	}

	// Split again, to two holders' age keys; the old shares open the store.
	var ids []*age.X25519Identity
	var args []string
	for range 2 {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		args = append(args, "--age-recipient", id.Recipient().String())
	}
	second := splitCLI(t, path, shares, append([]string{"--shares", "2", "--threshold", "2"}, args...)...)
	if second.ID == first.ID || second.Holders[1].Share != "" || !strings.Contains(second.Holders[1].Encrypted, "BEGIN AGE ENCRYPTED FILE") {
		t.Fatalf("second split %+v", second)
	}
	if _, _, code := runCLI(t, shares, "export", "--path", path); code == 0 {
		t.Fatal("shares of the first split still open the store")
	}

	api, srv := serveVector(t, v)
	t.Setenv("CUSTOS_PASSWORD", "") // a sealed daemon needs none
	t.Setenv("CUSTOS_API_KEY", "k")
	t.Setenv("CUSTOS_API_URL", srv.URL)
	type result struct {
		out, stderr string
		code        int
	}
	done := make(chan result, 1)
	go func() {
		out, stderr, code := runCLI(t, "", "daemon", "--run-once", "--testnet", "--chain", "ETH", "--path", path,
			"--ledger", filepath.Join(t.TempDir(), "ledger.db"))
		done <- result{out, stderr, code}
	}()
	sock := filepath.Join(filepath.Dir(path), "unseal.sock")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no unseal socket")
		}
	}

	dir := t.TempDir()
	unsealAs := func(i int) map[string]any {
		idFile := filepath.Join(dir, "id")
		if err := os.WriteFile(idFile, []byte(ids[i].String()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, stderr, code := runCLI(t, second.Holders[i].Encrypted, "unseal", "--path", path, "--age-identity", idFile)
		if code != 0 {
			t.Fatalf("unseal %d: exit %d %s", i, code, stderr)
		}
		var st map[string]any
		_ = json.Unmarshal([]byte(out), &st)
		return st
	}
	if st := unsealAs(1); st["submitted"] != 1.0 || st["unsealed"] != false {
		t.Fatalf("after one share: %v", st)
	}
	time.Sleep(100 * time.Millisecond)
	select {
	case r := <-done:
		t.Fatalf("daemon ended while sealed: %d %s", r.code, r.stderr)
	default:
	}
	api.mu.Lock()
	n := len(api.submitted)
	api.mu.Unlock()
	if n != 0 {
		t.Fatal("a transaction was submitted while sealed")
	}
	if st := unsealAs(0); st["unsealed"] != true {
		t.Fatalf("after two shares: %v", st)
	}
	r := <-done
	if r.code != 0 {
		t.Fatalf("daemon: exit %d %s", r.code, r.stderr)
	}
	if api.submitted[v.PendingTransaction.ID] != want.Signed {
		t.Fatalf("submitted %q", api.submitted[v.PendingTransaction.ID])
	}
	log, err := os.ReadFile(filepath.Join(filepath.Dir(path), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	// Two at the first export, two at the re-split, one refused old share,
	// two at the daemon.
	if c := strings.Count(string(log), `"unseal.share"`); c != 2+2+1+2 {
		t.Fatalf("%d unseal.share entries in the audit log, want 7", c)
	}
	for _, h := range append(first.Holders, second.Holders...) {
		if h.Share != "" && strings.Contains(string(log)+r.stderr, h.Share) {
			t.Fatal("a share reached the log")
		}
	}
}
