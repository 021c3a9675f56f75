package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
)

// TestNoSecretInOutput runs the key-management commands, successful and
// failing, with logging captured, and fails if the test mnemonic, key or
// password shows up anywhere it was not asked for: stderr, logs, error text,
// or stdout of commands that do not print secrets.
func TestNoSecretInOutput(t *testing.T) {
	k := newKeyCLI(t)
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(old)

	const (
		mnemonic = "legal winner thank year wave sausage worth useful legal winner thank yellow"
		key      = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
		badKey   = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f36231"
		badWords = "legal winner thank year wave sausage worth useful legal winner thank thank"
	)
	secrets := []string{cliPassword, mnemonic, key[2:], badKey[2:], "legal winner", "sausage"}
	check := func(what, text string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains a secret (%q…)", what, s[:6])
			}
		}
	}
	type step struct {
		lines   []string
		args    []string
		secrets bool // stdout is asked to hold secrets
	}
	var s1, s2 sigOut
	k.ok(&s1, []string{mnemonic}, "storemanagedwallet", "ETH")
	k.ok(&s2, []string{key}, "storemanagedprivatekey", "ETH")
	steps := []step{
		{[]string{mnemonic}, []string{"storemanagedwallet", "BTC"}, false},
		{[]string{badWords}, []string{"storemanagedwallet", "BTC"}, false},
		{[]string{key}, []string{"storemanagedprivatekey", "BSC"}, false},
		{[]string{badKey}, []string{"storemanagedprivatekey", "ETH"}, false},
		{[]string{key}, []string{"storemanagedprivatekey", "NOCHAIN"}, false},
		{nil, []string{"getaddress", s1.SignatureID, "0"}, false},
		{nil, []string{"getaddress", s2.SignatureID, "99999999999"}, false},
		{nil, []string{"generatemanagedprivatekeybatch", "ETH", "3"}, false},
		{nil, []string{"generatemanagedwallet", "XLM"}, false},
		{nil, []string{"removewallet", "nope"}, false},
		{nil, []string{"checkconfig"}, false},
		{nil, []string{"report", s1.SignatureID + "," + s2.SignatureID}, false},
		{nil, []string{"getmanagedwallet", s1.SignatureID}, true},
		{nil, []string{"getprivatekey", s2.SignatureID, "0"}, true},
		{nil, []string{"export"}, true},
	}
	for _, st := range steps {
		out, errs, _ := k.run(st.lines, st.args...)
		check("stderr of "+strings.Join(st.args, " "), errs)
		if !st.secrets {
			check("stdout of "+strings.Join(st.args, " "), out)
		}
	}
	// A wrong password, and the password in the environment.
	_, errs, _ := k.runWithPassword("wrong-"+cliPassword, nil, "export")
	check("wrong password error", errs)
	os.Setenv("CUSTOS_PASSWORD", cliPassword)
	defer os.Unsetenv("CUSTOS_PASSWORD")
	var out, errb bytes.Buffer
	run(context.Background(), []string{"--path", k.path, "checkconfig"}, strings.NewReader(""), &out, &errb)
	check("checkconfig with CUSTOS_PASSWORD", out.String()+errb.String())
	check("logs", logs.String())
}
