package e2e

import (
	"context"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/policy"
)

// The signing policy end to end, on the dev chain: a daemon with a policy
// (at most 10,000 wei per ETH transaction) and the audit log on signs the
// transfer within the limit, which is mined, and refuses the one above it:
// the refusal reaches GET /v3/kms/{id} with the rule's reason, the daemon's
// process runs twice more without signing it, and the chain never sees it.
// The run's audit log then verifies, as `custos audit verify` checks it.
func TestPolicyOnTheDevChain(t *testing.T) {
	s, w, payee := fundedWallet(t)

	dir := t.TempDir()
	policyPath, auditPath := filepath.Join(dir, "policy.json"), filepath.Join(dir, "audit.log")
	if err := os.WriteFile(policyPath, []byte(`{"version":1,"rules":[{"name":"eth-payouts",
		"match":{"chains":["ETH"],"network":"testnet"},"action":"allow","limits":{"maxAmount":{"":"10000"}}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// The transfer within the limit takes nonce 0, so that the refused one
	// (nonce 1) leaves no gap for a filler to close.
	within := s.queue(w, tatumTx(payee, big.NewInt(10_000), nil, 0, 21000), false)
	over := s.queue(w, tatumTx(payee, big.NewInt(10_001), nil, 1, 21000), false)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// run is one daemon process: its policy file and audit log opened, one
	// run, everything closed again.
	run := func() daemon.Summary {
		t.Helper()
		p, err := policy.Load(policyPath)
		if err != nil {
			t.Fatal(err)
		}
		log, err := audit.Open(auditPath, audit.Options{Actor: "daemon"})
		if err != nil {
			t.Fatal(err)
		}
		defer log.Close()
		d := s.newDaemon(s.client(), func(c *daemon.Config) { c.Policy, c.Audit = p, log })
		defer d.Close()
		sum, err := d.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}

	if sum := run(); sum != (daemon.Summary{Pending: 2, Signed: 1, Submitted: 1, Rejected: 1}) {
		t.Fatalf("first run: %+v", sum)
	}
	got := s.get(within)
	if got.TxID == "" {
		t.Fatal("the transfer within the limit was not completed")
	}
	s.receipt(ctx, common.HexToHash(got.TxID))

	var refused struct {
		TxID, Error string
		ErrorCount  int
	}
	if code := s.apiDo("GET", "/v3/kms/"+over, nil, &refused); code != 200 {
		t.Fatalf("GET the refused transaction: %d", code)
	}
	want := `refused by the signer: policy: rule "eth-payouts": maxAmount: 10001 of the native coin is above 10000`
	if refused.TxID != "" || refused.Error != want || refused.ErrorCount != 1 {
		t.Fatalf("the refused transaction: %+v, want error %q", refused, want)
	}

	// Two more daemon processes: the refused transaction is not served,
	// signed or reported again.
	for i := range 2 {
		if sum := run(); sum != (daemon.Summary{}) {
			t.Fatalf("run %d after the refusal: %+v", i+2, sum)
		}
	}
	l, err := daemon.OpenLedger(s.ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := l.Lookup(ctx, []string{over})
	if err != nil || len(signed) != 0 {
		t.Fatalf("the ledger holds a signature of the refused transaction: %v %v", signed, err)
	}
	refusals, err := l.Refusals(ctx, []string{over})
	l.Close()
	if err != nil || refusals[over] != (daemon.Refusal{Reason: want, Reported: true}) {
		t.Fatalf("the ledger's refusal: %+v %v", refusals, err)
	}
	if txData, err := s.pstore.TxData(ctx, s.tenant, over); err != nil || txData != "" {
		t.Fatalf("the API holds a signature of the refused transaction: %q %v", txData, err)
	}
	if got := s.get(over); got.TxID != "" {
		t.Fatalf("the refused transaction was completed: %+v", got)
	}
	// The chain saw exactly the transfer within the limit.
	pn, err := s.node.PendingNonceAt(ctx, w.addr)
	if err != nil || pn != 1 || s.nonce(w.addr) != 1 {
		t.Fatalf("the wallet's nonce: pending %d, mined %d (%v), want 1", pn, s.nonce(w.addr), err)
	}
	if b := s.balance(payee); b.Cmp(big.NewInt(10_000)) != 0 {
		t.Fatalf("the payee holds %s wei, want 10000", b)
	}

	rep, head, err := audit.VerifyFile(auditPath, "")
	if err != nil {
		t.Fatalf("audit verify: %v", err)
	}
	// Three processes: the first one's decisions, key use, signature and
	// report, then nothing more to record.
	if rep.Entries < 5 {
		t.Fatalf("audit log: %+v (head file %v)", rep, head)
	}
}
