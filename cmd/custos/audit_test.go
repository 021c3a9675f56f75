package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/audit"
)

type verifyOut struct {
	OK       bool   `json:"ok"`
	Entries  int    `json:"entries"`
	LastHash string `json:"lastHash"`
	Head     bool   `json:"head"`
	Line     int    `json:"line"`
	Error    string `json:"error"`
}

func auditVerify(t *testing.T, args ...string) (verifyOut, int) {
	t.Helper()
	out, errs, code := runCLI(t, "", append([]string{"audit", "verify"}, args...)...)
	var v verifyOut
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("audit verify printed %q (%s): %v", out, errs, err)
	}
	return v, code
}

// TestAuditLogOfCLIActs runs the administrative commands, then checks that
// each act is in the log, that `audit verify` passes, that no secret is in
// the log, and that verify fails (exit 2, naming the line) once any one
// entry is edited, removed or swapped.
func TestAuditLogOfCLIActs(t *testing.T) {
	k := newKeyCLI(t)
	const (
		mnemonic = "legal winner thank year wave sausage worth useful legal winner thank yellow"
		key      = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
		newPW    = "another-store-password-7"
	)
	var s1, s2, s3 sigOut
	k.ok(&s1, []string{mnemonic}, "storemanagedwallet", "ETH")
	k.ok(&s2, []string{key}, "storemanagedprivatekey", "ETH")
	k.ok(&s3, nil, "generatemanagedwallet", "XLM")
	k.ok(nil, nil, "generatemanagedprivatekeybatch", "ETH", "3")
	var w struct{ Secret string }
	k.ok(&w, nil, "getmanagedwallet", s3.SignatureID)
	var pk struct{ PrivateKey string }
	k.ok(&pk, nil, "getprivatekey", s1.SignatureID, "2")
	k.ok(nil, nil, "getaddress", s1.SignatureID, "2")
	k.ok(nil, nil, "export")
	k.ok(nil, nil, "removewallet", s2.SignatureID)
	k.ok(nil, []string{newPW}, "changepassword")

	log := filepath.Join(filepath.Dir(k.path), "audit.log")
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\n'}) {
		e, err := audit.ParseLine(line)
		if err != nil {
			t.Fatal(err)
		}
		if e.Actor != "cli" {
			t.Fatalf("actor %q", e.Actor)
		}
		events = append(events, e.Event+" "+e.Fields["command"].(string))
	}
	want := []string{"wallet.added storemanagedwallet", "wallet.added storemanagedprivatekey",
		"wallet.added generatemanagedwallet", "wallet.added generatemanagedprivatekeybatch",
		"wallet.exported getmanagedwallet", "wallet.exported getprivatekey", "wallet.exported export",
		"wallet.removed removewallet", "store.password_changed changepassword"}
	if strings.Join(events, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(events, "\n"), strings.Join(want, "\n"))
	}

	// API keys: recorded in the data dir's log by default.
	dir := t.TempDir()
	out, errs, code := runCLI(t, "", "apikey", "create", "--name", "app", "--data-dir", dir)
	var created struct{ ID, APIKey string }
	if code != 0 || json.Unmarshal([]byte(out), &created) != nil {
		t.Fatalf("apikey create: %d %s %s", code, out, errs)
	}
	if _, errs, code := runCLI(t, "", "apikey", "revoke", created.ID, "--data-dir", dir); code != 0 {
		t.Fatalf("apikey revoke: %s", errs)
	}
	kb, _ := os.ReadFile(filepath.Join(dir, "audit.log"))
	if !bytes.Contains(kb, []byte(`"event":"apikey.created","fields":{"command":"create","id":"`+created.ID)) ||
		!bytes.Contains(kb, []byte(`"event":"apikey.revoked"`)) {
		t.Fatalf("API key log:\n%s", kb)
	}
	if v, code := auditVerify(t, "--file", filepath.Join(dir, "audit.log")); code != 0 || v.Entries != 2 {
		t.Fatalf("verify of the API key log: %+v exit %d", v, code)
	}

	for _, s := range []string{cliPassword, newPW, mnemonic, "legal winner", key[2:], strings.TrimPrefix(pk.PrivateKey, "0x"), w.Secret, created.APIKey} {
		if bytes.Contains(b, []byte(s)) || bytes.Contains(kb, []byte(s)) {
			t.Fatalf("the audit log holds a secret (%q…)", s[:6])
		}
	}

	v, code := auditVerify(t, "--path", k.path)
	if code != 0 || !v.OK || v.Entries != len(want) || !v.Head {
		t.Fatalf("verify: %+v exit %d", v, code)
	}
	if _, code := auditVerify(t, "--file", log, "--expect-head", v.LastHash); code != 0 {
		t.Fatal("verify does not find the last hash it printed")
	}

	lines := bytes.SplitAfter(b, []byte{'\n'})
	lines = lines[:len(lines)-1]
	for name, change := range map[string]func([][]byte) [][]byte{
		"edited": func(ls [][]byte) [][]byte {
			ls[3] = bytes.Replace(ls[3], []byte(`"chain":"ETH"`), []byte(`"chain":"BSC"`), 1)
			return ls
		},
		"removed": func(ls [][]byte) [][]byte { return append(ls[:3:3], ls[4:]...) },
		"swapped": func(ls [][]byte) [][]byte { ls[3], ls[4] = ls[4], ls[3]; return ls },
	} {
		t.Run(name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "audit.log")
			if err := os.WriteFile(bad, bytes.Join(change(append([][]byte{}, lines...)), nil), 0o600); err != nil {
				t.Fatal(err)
			}
			v, code := auditVerify(t, "--file", bad)
			if code != 2 || v.OK || v.Line != 4 || v.Entries != 3 {
				t.Fatalf("verify of a log with an entry %s: %+v exit %d", name, v, code)
			}
		})
	}
}

// An export is refused when its entry cannot be written; a wallet stored is
// named in the error when its entry cannot be.
func TestAuditFailureRefusesExport(t *testing.T) {
	k := newKeyCLI(t)
	var s1 sigOut
	k.ok(&s1, []string{abandon12}, "storemanagedwallet", "ETH")
	// A directory where the log should be: no entry can be written.
	log := filepath.Join(filepath.Dir(k.path), "audit.log")
	if err := os.Remove(log); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(log, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"export"}, {"getmanagedwallet", s1.SignatureID}, {"getprivatekey", s1.SignatureID, "0"}} {
		k.fails("export refused: the audit log cannot be written", nil, args...)
	}
	out, errs, code := k.run([]string{abandon12}, "storemanagedwallet", "BTC")
	if code == 0 || out != "" || !strings.Contains(errs, "but not recorded in the audit log") {
		t.Fatalf("store with no audit log: exit %d, %q %q", code, out, errs)
	}
}
