package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/harden"
)

// mainChildEnv makes the test binary run main() itself (see TestMain) with
// the variable's words as arguments: the process the user starts, hardening
// and all.
const mainChildEnv = "CUSTOS_TEST_MAIN_ARGS"

// TestRekeyCommand: changepassword --rekey replaces the data key (the new
// password opens every wallet, the old one nothing), says so in its help,
// and is audited as a re-key.
func TestRekeyCommand(t *testing.T) {
	k := newKeyCLI(t)
	var w struct{ SignatureID string }
	k.ok(&w, nil, "generatemanagedwallet", "ETH")
	out, _, code := k.run(nil, "changepassword", "--help")
	if code != 0 || !strings.Contains(out, "--rekey") || !strings.Contains(out, "Plain changepassword") ||
		!strings.Contains(out, "new data key") {
		t.Fatalf("help does not say what each form does:\n%s", out)
	}
	oldHeader := storeHeader(t, k.path, nil)
	k.ok(nil, []string{"rekeyed-password"}, "changepassword", "--rekey")
	if _, errs, code := k.run(nil, "getmanagedwallet", w.SignatureID); code == 0 || !contains(errs, "invalid password") {
		t.Fatalf("old password after --rekey: %d %s", code, errs)
	}
	out, errs, code := k.runWithPassword("rekeyed-password", nil, "getmanagedwallet", w.SignatureID)
	if code != 0 || !strings.Contains(out, "mnemonic") {
		t.Fatalf("new password after --rekey: %d %s", code, errs)
	}
	// The attack --rekey exists for: the old header put back, the old password.
	storeHeader(t, k.path, oldHeader)
	if out, _, code := k.run(nil, "getmanagedwallet", w.SignatureID); code == 0 {
		t.Fatalf("the old header and password read the wallet after --rekey: %s", out)
	}
	log, _ := os.ReadFile(filepath.Join(filepath.Dir(k.path), "audit.log"))
	if !bytes.Contains(log, []byte(`"event":"store.rekeyed"`)) {
		t.Fatalf("re-key not audited:\n%s", log)
	}
}

// storeHeader returns the wallet store's header row, after replacing it with
// set when set is not nil.
func storeHeader(t *testing.T, path string, set []byte) []byte {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if set != nil {
		if _, err := db.Exec("UPDATE meta SET header = ? WHERE id = 1", set); err != nil {
			t.Fatal(err)
		}
	}
	var h []byte
	if err := db.QueryRow("SELECT header FROM meta WHERE id = 1").Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestSecretsLeaveTheEnvironment runs a command as main does: the password
// and the API key it finds in the environment are used, and gone from the
// environment afterwards.
func TestSecretsLeaveTheEnvironment(t *testing.T) {
	k := newKeyCLI(t)
	t.Setenv("CUSTOS_PASSWORD", "from-the-environment")
	t.Setenv("CUSTOS_API_KEY", "an-api-key-value")
	t.Setenv("CUSTOS_APPROVAL_SECRET", "an-approval-secret")
	var out, errb bytes.Buffer
	a := &app{lookupEnv: os.LookupEnv, scrubEnv: true, stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	if code := runApp(context.Background(), a, []string{"--path", k.path, "generatemanagedwallet", "ETH"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, name := range []string{"CUSTOS_PASSWORD", "CUSTOS_API_KEY", "CUSTOS_APPROVAL_SECRET"} {
		if v, ok := os.LookupEnv(name); ok {
			t.Errorf("%s still in the environment after start: %q", name, v)
		}
	}
	// The store was created with the password that left the environment.
	var w struct{ SignatureID string }
	json.Unmarshal(out.Bytes(), &w)
	if o, errs, code := k.runWithPassword("from-the-environment", nil, "getmanagedwallet", w.SignatureID); code != 0 || !strings.Contains(o, "mnemonic") {
		t.Fatalf("store not made with the environment's password: %d %s", code, errs)
	}
}

// TestBinaryNotDumpable starts the command as a user does (main, in a child
// process; see mainChild) and has the child report its dumpable flag before
// main runs and once main has run its start-up: dumpable, then not.
func TestBinaryNotDumpable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the dumpable flag is Linux's")
	}
	path := filepath.Join(t.TempDir(), "wallet.dat")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// generatemanagedwallet waits at the password prompt on the open stdin.
	cmd.Env = append(os.Environ(), mainChildEnv+"=--path "+path+" generatemanagedwallet ETH")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	sc := bufio.NewScanner(out)
	var lines []string
	for len(lines) < 2 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if strings.Join(lines, " ") != "before main: dumpable=true after start: dumpable=false" {
		t.Fatalf("child reported %q", lines)
	}
}

// mainChild runs main() with args, reporting the process's dumpable flag
// before it and once main has turned it off (or after 10 s).
func mainChild(args string) {
	d, err := harden.Dumpable()
	fmt.Printf("before main: dumpable=%v\n", d && err == nil)
	go func() {
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			if d, err := harden.Dumpable(); err == nil && !d {
				break
			}
		}
		d, err := harden.Dumpable()
		fmt.Printf("after start: dumpable=%v\n", d || err != nil)
	}()
	os.Args = append([]string{"custos"}, strings.Fields(args)...)
	main()
}
