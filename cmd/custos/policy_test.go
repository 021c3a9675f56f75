package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/vectors"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const policyETH = `{"version":1,"rules":[
	{"name":"frozen","match":{"wallets":["6f1e2d3c-0000-4000-8000-00000000dead"]},"action":"deny"},
	{"name":"eth-small","match":{"chains":["ETH"]},"action":"allow","limits":{"maxAmount":{"":"1000"},"indexes":{"min":0,"max":9}}}]}`

func TestPolicyCheck(t *testing.T) {
	stdout, stderr, code := runCLI(t, "", "policy", "check", writeFile(t, "p.json", policyETH))
	if code != 0 || strings.TrimSpace(stdout) !=
		`{"version":1,"rules":[{"name":"frozen","action":"deny"},{"name":"eth-small","action":"allow","limits":["maxAmount","indexes"]}]}` {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	for _, bad := range []string{`{"version":1,"rules":[],"Rules":[]}`, `{"version":2,"rules":[]}`,
		`{"version":1,"rules":[{"name":"a","match":{"chains":["NOPE"]},"action":"deny"}]}`} {
		stdout, stderr, code := runCLI(t, "", "policy", "check", writeFile(t, "p.json", bad))
		var e struct{ Error string }
		if code == 0 || stdout != "" || json.Unmarshal([]byte(stderr), &e) != nil || !strings.Contains(e.Error, "invalid policy") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", bad, code, stdout, stderr)
		}
	}
}

// `policy test --intent` prints the decision and exits 3 when it refuses.
func TestPolicyTestIntent(t *testing.T) {
	pol := writeFile(t, "p.json", policyETH)
	in := func(amount string) string {
		return writeFile(t, "i.json", `{"chain":"ETH","network":"mainnet","signers":[],"transfers":[{"to":"0x6B175474E89094C44Da98b954EedeAC495271d0F","amount":"`+amount+`"}]}`)
	}
	for _, c := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{in("1000"), "--indexes", "9"}, 0, `{"allow":true,"rule":"eth-small","index":1,"reason":"policy: rule \"eth-small\" allows"}`},
		{[]string{in("1001"), "--indexes", "9"}, 3, `{"allow":false,"rule":"eth-small","index":1,"reason":"policy: rule \"eth-small\": maxAmount: 1001 of the native coin is above 1000"}`},
		{[]string{in("1"), "--indexes", "10"}, 3, `{"allow":false,"rule":"eth-small","index":1,"reason":"policy: rule \"eth-small\": indexes: derivation index 10 is outside 0..9"}`},
		{[]string{in("1"), "--wallets", "6f1e2d3c-0000-4000-8000-00000000dead"}, 3, `{"allow":false,"rule":"frozen","index":0,"reason":"policy: rule \"frozen\" denies"}`},
	} {
		stdout, stderr, code := runCLI(t, "", append([]string{"policy", "test", pol, "--intent"}, c.args...)...)
		if code != c.code || strings.TrimSpace(stdout) != c.out {
			t.Errorf("%v: exit %d, stdout %s, stderr %s", c.args, code, stdout, stderr)
		}
	}
	if _, _, code := runCLI(t, "", "policy", "test", pol); code != 1 {
		t.Errorf("neither TX nor --intent: exit %d", code)
	}
}

// `policy test FILE TX` decodes the pending transaction with its chain's
// codec, or says that the codec decodes no intent.
func TestPolicyTestPendingTx(t *testing.T) {
	v := ethTestnetNative(t)
	ptx, _ := json.Marshal(v.PendingTransaction)
	pol := writeFile(t, "p.json", `{"version":1,"rules":[{"name":"eth","match":{"chains":["ETH"],"network":"testnet"},"action":"allow"}]}`)
	stdout, stderr, code := runCLI(t, "", "policy", "test", "--testnet", pol, writeFile(t, "tx.json", string(ptx)))
	c, _ := chains.Lookup("ETH")
	if _, ok := c.(chain.Intender); !ok {
		if code != 1 || !strings.Contains(stderr, "decodes no intent") {
			t.Fatalf("exit %d, stderr %s", code, stderr)
		}
		return
	}
	if code != 0 || !strings.Contains(stdout, `"rule":"eth"`) {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
}

// `daemon --policy` refuses what the policy does not allow, and a daemon
// with neither a policy nor an approval service warns that it signs anything.
func TestPolicyDaemonFlag(t *testing.T) {
	cheapStoreKDF(t)
	v := ethTestnetNative(t)
	path := storeForVector(t, v)
	ptx, _ := json.Marshal(v.PendingTransaction)
	api := &daemonAPI{pending: []json.RawMessage{ptx}, ids: []string{v.PendingTransaction.ID}, submitted: map[string]string{}}
	srv := httptest.NewServer(api.handler())
	defer srv.Close()
	t.Setenv("CUSTOS_PASSWORD", signTestPassword)
	t.Setenv("CUSTOS_API_KEY", "daemon-policy-api-key")
	t.Setenv("CUSTOS_API_URL", srv.URL)
	ledger := filepath.Join(t.TempDir(), "ledger.db")
	t.Setenv("CUSTOS_POLICY", writeFile(t, "p.json", `{"version":1,"rules":[{"name":"no-eth","match":{"chains":["ETH"]},"action":"deny"}]}`))
	stdout, stderr, code := runCLI(t, "", "daemon", "--runOnce", "--testnet", "--chain", "ETH", "--path", path, "--ledger", ledger)
	var sum struct{ Signed, Rejected int }
	if code != 0 || json.Unmarshal([]byte(stdout), &sum) != nil || sum.Signed != 0 || sum.Rejected != 1 || len(api.submitted) != 0 {
		t.Fatalf("exit %d, summary %s, submitted %d, stderr %s", code, stdout, len(api.submitted), stderr)
	}
	if strings.Contains(stderr, "anything queued is signed") {
		t.Fatal("warned with a policy")
	}
	t.Setenv("CUSTOS_POLICY", "")
	_, stderr, code = runCLI(t, "", "daemon", "--runOnce", "--testnet", "--chain", "ETH", "--path", path,
		"--ledger", filepath.Join(t.TempDir(), "ledger.db"))
	if code != 0 || !strings.Contains(stderr, "anything queued is signed") || len(api.submitted) != 1 {
		t.Fatalf("exit %d, submitted %d, stderr %s", code, len(api.submitted), stderr)
	}
}

func TestPolicyMaxGasPriceFlag(t *testing.T) {
	got, err := gasCapFlags{"ETH=200gwei", "MATIC=123"}.ceilings()
	if err != nil || got["ETH"].String() != "200000000000" || got["MATIC"].String() != "123" || len(got) != 2 {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"ETH", "ETH=", "ETH=-1", "ETH=0", "ETH=1.5gwei", "BTC=1", "NOPE=1"} {
		if _, err := (gasCapFlags{bad}).ceilings(); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// ethTestnetNative is the first ETH testnet signing vector in the native format.
func ethTestnetNative(t *testing.T) vectors.Signing {
	t.Helper()
	for _, r := range vectors.SigningFor("ETH") {
		if r.Testnet && r.Format == "native" {
			return r
		}
	}
	t.Fatal("no ETH testnet native vector")
	return vectors.Signing{}
}
