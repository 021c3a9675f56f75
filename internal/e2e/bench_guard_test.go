package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/policy"
	"github.com/custoskms/custos/internal/walletstore"
)

// BenchmarkDaemonGuard is BenchmarkDaemonRealAPI without the guard ("off")
// and with it ("on"): a policy file of 50 rules, where each decision walks
// 49 rules that do not match before the one that allows, and the audit log,
// fsynced, recording every decision, key use, signature and report. The
// guard's cost is the ratio of the two tx/s (the budget is 20%).
func BenchmarkDaemonGuard(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchRealAPI(b, nil) })
	b.Run("on", func(b *testing.B) {
		dir := b.TempDir()
		path := filepath.Join(dir, "policy.json")
		benchRealAPI(b, func(c *daemon.Config, payee common.Address) {
			if err := os.WriteFile(path, guardPolicy(b, 50, payee), 0o600); err != nil {
				b.Fatal(err)
			}
			p, err := policy.Load(path)
			if err != nil {
				b.Fatal(err)
			}
			log, err := audit.Open(filepath.Join(dir, "audit.log"), audit.Options{Actor: "daemon"})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { log.Close() })
			c.Policy, c.Audit = p, log
		})
	})
}

// guardPolicy is a policy file of n rules: n-1 that do not match the
// benchmark's transfers, half on other wallets and half on other signers
// (each with limits, so a rule's match is all that stops it), then one that
// allows them under every kind of limit a transfer has: amount, daily
// count and volume, recipients (payee), fee and gas price.
func guardPolicy(b *testing.B, n int, payee common.Address) []byte {
	limits := map[string]any{
		"maxAmount": map[string]string{"": "1000"},
		"daily":     map[string]any{"count": 100_000_000, "volume": map[string]string{"": "100000000000"}},
		"to":        map[string]any{"allow": []string{payee.Hex()}},
		"fee":       map[string]string{"max": "1000000000000000", "gasPrice": "100000000000"},
	}
	rules := make([]map[string]any, 0, n)
	for i := range n - 1 {
		m := map[string]any{"chains": []string{"ETH"}, "network": "testnet"}
		if i%2 == 0 {
			m["wallets"] = []string{walletstore.NewID()}
		} else {
			m["signers"] = []string{randomAddress(b).Hex()}
		}
		rules = append(rules, map[string]any{"name": fmt.Sprintf("other-%d", i), "match": m, "action": "allow", "limits": limits})
	}
	rules = append(rules, map[string]any{"name": "eth-payouts", "match": map[string]any{"chains": []string{"ETH"}, "network": "testnet"},
		"action": "allow", "limits": limits})
	out, err := json.Marshal(map[string]any{"version": 1, "rules": rules})
	if err != nil {
		b.Fatal(err)
	}
	return out
}
