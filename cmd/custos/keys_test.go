package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/vectors"
)

func readFile(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
func bytesEqual(a, b []byte) bool { return bytes.Equal(a, b) }

func (k *keyCLI) runWithPassword(pw string, lines []string, args ...string) (string, string, int) {
	in := strings.Join(append([]string{pw}, lines...), "\n") + "\n"
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--path", k.path}, args...), strings.NewReader(in), &out, &errb)
	return out.String(), errb.String(), code
}

func TestGetManagedWalletAndPrivateKeyWallets(t *testing.T) {
	k := newKeyCLI(t)
	const key = "0xe01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc"
	var s sigOut
	k.ok(&s, []string{key}, "--testnet", "storemanagedprivatekey", "ETH")
	if s.SignatureID == "" || s.XPub != "" || s.Address != "" {
		t.Fatalf("storemanagedprivatekey printed %+v", s)
	}
	var w map[string]any
	k.ok(&w, nil, "getmanagedwallet", s.SignatureID)
	if w["privateKey"] != key || w["chain"] != "ETH" || w["testnet"] != true || len(w) != 3 {
		t.Fatalf("getmanagedwallet = %v", w)
	}
	// getprivatekey returns the stored key (Tatum would derive from an empty mnemonic).
	var p, a map[string]string
	k.ok(&p, nil, "getprivatekey", s.SignatureID, "3")
	k.ok(&a, nil, "getaddress", s.SignatureID, "3")
	if p["privateKey"] != key || a["address"] != "0xb157e208264ff9edebbcb1d36e66d156df8afa6c" {
		t.Fatalf("key wallet: %v %v", p, a)
	}
}

func TestBatch(t *testing.T) {
	k := newKeyCLI(t)
	out, errs, code := k.run(nil, "generatemanagedprivatekeybatch", "ETH", "25")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q (no progress bar when stderr is not a terminal)", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 25 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines[:5] {
		var s sigOut
		if err := json.Unmarshal([]byte(l), &s); err != nil || s.SignatureID == "" || !strings.HasPrefix(s.Address, "0x") {
			t.Fatalf("line %q", l)
		}
		var a map[string]string
		k.ok(&a, nil, "getaddress", s.SignatureID, "0")
		if a["address"] != s.Address {
			t.Fatalf("batch address %s, stored key gives %s", s.Address, a["address"])
		}
	}
	var exp map[string]map[string]any
	k.ok(&exp, nil, "export")
	if len(exp) != 25 {
		t.Fatalf("export has %d wallets", len(exp))
	}
}

// TestBatchSeveralChunks crosses chunk boundaries (firstChunk, then a larger
// one, then the rest): every wallet is printed once and stored once.
func TestBatchSeveralChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 30,001 keys")
	}
	k := newKeyCLI(t)
	const n = firstChunk*3 + 1
	out, errs, code := k.run(nil, "generatemanagedprivatekeybatch", "ETH", strconv.Itoa(n))
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	seen := map[string]bool{}
	var last sigOut
	for _, l := range lines {
		if err := json.Unmarshal([]byte(l), &last); err != nil || last.SignatureID == "" || seen[last.SignatureID] {
			t.Fatalf("line %q: %v (or a repeated signature ID)", l, err)
		}
		seen[last.SignatureID] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct lines, want %d", len(seen), n)
	}
	var a map[string]string
	k.ok(&a, nil, "getaddress", last.SignatureID, "0")
	if a["address"] != last.Address {
		t.Fatalf("last line's address %s, stored key gives %s", last.Address, a["address"])
	}
	var exp map[string]map[string]any
	k.ok(&exp, nil, "export")
	if len(exp) != n {
		t.Fatalf("export has %d wallets, want %d", len(exp), n)
	}
	for id := range seen {
		if exp[id] == nil {
			t.Fatalf("printed wallet %s is not stored", id)
		}
	}
}

func TestImportTatumExportChangePassword(t *testing.T) {
	k := newKeyCLI(t)
	tatumFile := filepath.Join(t.TempDir(), "wallet.dat")
	os.WriteFile(tatumFile, vectors.TatumWalletDat, 0o600)
	tw := vectors.Tatum()

	// Wrong Tatum password: clear error, no store created.
	_, errs, code := k.runWithPassword("wrong", []string{cliPassword}, "import", "--tatum", tatumFile)
	if code == 0 || !contains(errs, "invalid password for Tatum wallet file") {
		t.Fatalf("wrong tatum password: %d %s", code, errs)
	}
	if _, err := os.Stat(k.path); err == nil {
		t.Fatal("store created by a failed import")
	}

	var res importResult
	out, errs, code := k.runWithPassword(tw.Password, []string{cliPassword}, "import", "--tatum", tatumFile)
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	if len(res.Imported) != len(tw.Wallets) || len(res.Skipped) != 0 {
		t.Fatalf("import result %+v", res)
	}
	var exp map[string]map[string]any
	k.ok(&exp, nil, "export")
	for id, want := range tw.Wallets {
		for f, v := range want {
			if exp[id][f] != v {
				t.Errorf("%s.%s = %v, want %v", id, f, exp[id][f], v)
			}
		}
		if len(exp[id]) != len(want) {
			t.Errorf("%s: exported %v, want %v", id, exp[id], want)
		}
	}
	// Importing again skips every ID.
	out, _, _ = k.runWithPassword(tw.Password, []string{cliPassword}, "import", "--tatum", tatumFile)
	json.Unmarshal([]byte(out), &res)
	if len(res.Imported) != 0 || len(res.Skipped) != len(tw.Wallets) {
		t.Fatalf("re-import %+v", res)
	}
	// The XRP wallet keeps its address; the ETH key wallet gives its key.
	var a map[string]string
	k.ok(&a, nil, "getaddress", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "0")
	if a["address"] != "rG1UVUQQEELDcP7QDwehqGvQ8ftiF2T8yN" {
		t.Fatalf("XRP address %v", a)
	}

	// changepassword: old password then new password on stdin.
	k.ok(nil, []string{"second-password"}, "changepassword")
	_, errs, code = k.run(nil, "export")
	if code == 0 || !contains(errs, "invalid password") {
		t.Fatalf("old password still works: %s", errs)
	}
	out, errs, code = k.runWithPassword("second-password", nil, "export")
	if code != 0 || json.Unmarshal([]byte(out), &exp) != nil || len(exp) != len(tw.Wallets) {
		t.Fatalf("after changepassword: %d %s", code, errs)
	}
}

func TestStoreFileErrors(t *testing.T) {
	k := newKeyCLI(t)
	k.fails("does not exist", nil, "export")
	os.WriteFile(k.path, vectors.TatumWalletDat, 0o600)
	k.fails("import it with", nil, "export")
	k.fails("import it with", []string{abandon12}, "storemanagedwallet", "ETH")
	os.WriteFile(k.path, []byte("SQLite format 3\x00garbage"), 0o600)
	k.fails("corrupt", nil, "getaddress", "x", "0")
	os.Remove(k.path)
	k.ok(nil, nil, "generatemanagedwallet", "BTC")
	full := readFile(t, k.path)
	os.WriteFile(k.path, full[:len(full)-100], 0o600)
	k.fails("truncated", nil, "export")
}

func TestDiagnosticsHideSecrets(t *testing.T) {
	k := newKeyCLI(t)
	var s sigOut
	k.ok(&s, []string{abandon12}, "storemanagedwallet", "BTC")
	t.Setenv("TATUM_KMS_PASSWORD", cliPassword)
	t.Setenv("TATUM_API_KEY", "api-key-abcdef-123456")
	t.Setenv("TATUM_KMS_AWS_SECRET_ACCESS_KEY", "aws-secret-zzz")
	t.Setenv("TATUM_KMS_AWS_REGION", "eu-west-1")
	for _, args := range [][]string{{"checkconfig"}, {"report", s.SignatureID + ",nope"}} {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"--path", k.path}, args...), strings.NewReader(""), &out, &errb)
		if code != 0 {
			t.Fatalf("%v: %s", args, errb.String())
		}
		for _, secret := range []string{cliPassword, "api-key", "aws-secret", "abandon"} {
			if strings.Contains(out.String()+errb.String(), secret) {
				t.Errorf("%v shows %q: %s", args, secret, out.String())
			}
		}
		if !strings.Contains(out.String(), "eu-west-1") || !strings.Contains(out.String(), `"wallets":1`) {
			t.Errorf("%v: %s", args, out.String())
		}
	}
}
