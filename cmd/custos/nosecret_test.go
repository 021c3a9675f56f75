package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// TestNoSecretInOutput runs the key-management commands, successful and
// failing, with logging captured, and fails if a secret shows up anywhere it
// was not asked for: stderr, logs, error text, or stdout of commands that do
// not print secrets. The secrets are the test's own mnemonic, key and
// password, and every secret the commands generated or derived during the
// run, read back afterwards (getmanagedwallet, getprivatekey) apart from the
// outputs checked. Each command must end with the exit code expected of it,
// so that one failing early cannot pass for one that kept a secret to itself.
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
	// captured is every text a command wrote where no secret may appear.
	type captured struct{ what, text string }
	var outputs []captured
	var s1, s2 sigOut
	k.ok(&s1, []string{mnemonic}, "storemanagedwallet", "ETH")
	k.ok(&s2, []string{key}, "storemanagedprivatekey", "ETH")
	steps := []struct {
		lines   []string
		args    []string
		code    int  // the exit code expected
		secrets bool // stdout is asked to hold secrets
	}{
		{[]string{mnemonic}, []string{"storemanagedwallet", "BTC"}, 0, false},
		{[]string{badWords}, []string{"storemanagedwallet", "BTC"}, 1, false},
		{[]string{key}, []string{"storemanagedprivatekey", "BSC"}, 0, false},
		{[]string{badKey}, []string{"storemanagedprivatekey", "ETH"}, 1, false},
		{[]string{key}, []string{"storemanagedprivatekey", "NOCHAIN"}, 1, false},
		{nil, []string{"getaddress", s1.SignatureID, "0"}, 0, false},
		{nil, []string{"getaddress", s2.SignatureID, "99999999999"}, 1, false},
		{nil, []string{"generatemanagedprivatekeybatch", "ETH", "3"}, 0, false},
		{nil, []string{"generatemanagedwallet", "XLM"}, 0, false},
		{nil, []string{"generatemanagedwallet", "BTC"}, 0, false},
		{nil, []string{"removewallet", "nope"}, 1, false},
		{nil, []string{"checkconfig"}, 0, false},
		{nil, []string{"report", s1.SignatureID + "," + s2.SignatureID}, 0, false},
		{nil, []string{"getmanagedwallet", s1.SignatureID}, 0, true},
		{nil, []string{"getprivatekey", s2.SignatureID, "0"}, 0, true},
		{nil, []string{"export"}, 0, true},
	}
	ids := []string{s1.SignatureID, s2.SignatureID}
	for _, st := range steps {
		name := strings.Join(st.args, " ")
		out, errs, code := k.run(st.lines, st.args...)
		if code != st.code {
			t.Errorf("%s: exit %d, want %d: %s", name, code, st.code, errs)
		}
		outputs = append(outputs, captured{"stderr of " + name, errs})
		if st.secrets {
			continue
		}
		outputs = append(outputs, captured{"stdout of " + name, out})
		// The wallets a command stored, one JSON line each, to read back below.
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var s sigOut
			if json.Unmarshal([]byte(line), &s) == nil && s.SignatureID != "" {
				ids = append(ids, s.SignatureID)
			}
		}
	}
	// A wrong password, and the password in the environment.
	_, errs, code := k.runWithPassword("wrong-"+cliPassword, nil, "export")
	if code != 1 {
		t.Errorf("export with a wrong password: exit %d, want 1", code)
	}
	outputs = append(outputs, captured{"wrong password error", errs})
	t.Setenv("CUSTOS_PASSWORD", cliPassword)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--path", k.path, "checkconfig"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Errorf("checkconfig with CUSTOS_PASSWORD: exit %d: %s", code, errb.String())
	}
	t.Setenv("CUSTOS_PASSWORD", "")
	outputs = append(outputs, captured{"checkconfig with CUSTOS_PASSWORD", out.String() + errb.String()}, captured{"logs", logs.String()})

	// 4 stored wallets, 3 batch keys and 2 generated wallets; each one's secrets.
	if len(ids) != 9 {
		t.Fatalf("%d wallets stored, want 9: %v", len(ids), ids)
	}
	secrets := append([]string{cliPassword, mnemonic, key[2:], badKey[2:], "legal winner", "sausage"},
		storedSecrets(t, k, ids)...)
	for _, o := range outputs {
		for _, s := range secrets {
			if strings.Contains(o.text, s) {
				t.Errorf("%s contains a secret (%q…)", o.what, s[:6])
			}
		}
	}
}

// storedSecrets reads back each wallet's secrets: its mnemonic (and its first
// three words), secret or private key, and the private keys at indices 0 and
// 1 (a mnemonic wallet's derived keys), hex keys without their 0x.
func storedSecrets(t *testing.T, k *keyCLI, ids []string) []string {
	t.Helper()
	var secrets []string
	add := func(s string) {
		if s = strings.TrimPrefix(s, "0x"); len(s) >= 16 && !slices.Contains(secrets, s) {
			secrets = append(secrets, s)
		}
	}
	for _, id := range ids {
		var w struct{ Mnemonic, Secret, PrivateKey string }
		k.ok(&w, nil, "getmanagedwallet", id)
		if w.Mnemonic == "" && w.Secret == "" && w.PrivateKey == "" {
			t.Fatalf("wallet %s holds no secret", id)
		}
		add(w.Mnemonic)
		if words := strings.Fields(w.Mnemonic); len(words) >= 3 {
			add(strings.Join(words[:3], " "))
		}
		add(w.Secret)
		add(w.PrivateKey)
		for _, ix := range []string{"0", "1"} {
			var pk struct{ PrivateKey string }
			k.ok(&pk, nil, "getprivatekey", id, ix)
			add(pk.PrivateKey)
		}
	}
	return secrets
}
