package daemon

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custoskms/custos/internal/policy"
)

// The signing policy (Config.Policy, docs/policy.md) is the daemon's own
// decision on each transaction, taken on the decoded Subject before the
// approval service is asked and before a key is used. A refusal is final,
// as an approval service's is: noted in the ledger, reported to the API with
// "refused": true and "refused by the signer: policy: …", never asked about
// again (refused.go). An allowed transaction's share
// of its rule's daily limits is reserved at the decision and recorded in the
// ledger with its signature, so that a restart does not reset the counts and
// concurrent transactions cannot together pass a limit.

// guard is the policy as the daemon applies it.
type guard struct {
	meter  *policy.Meter
	denied *prometheus.CounterVec
}

// newGuard loads the spends of the rolling window from the ledger and
// checks that the policy names only chains the daemon knows.
func (d *Daemon) newGuard(ctx context.Context) (*guard, error) {
	p := d.cfg.Policy
	for _, code := range p.Chains() {
		if _, err := d.cfg.Lookup(code); err != nil {
			return nil, fmt.Errorf("%w: policy: %w", ErrConfig, err)
		}
	}
	past, err := d.ledger.Spent(ctx, d.cfg.Now().Add(-policy.Window))
	if err != nil {
		return nil, err
	}
	g := &guard{meter: policy.NewMeter(p, d.cfg.Now, past),
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "custos", Subsystem: "daemon",
			Name: "policy_denied_total", Help: "Pending transactions the signing policy refused (ended, reported to the API)."},
			[]string{"chain"})}
	d.m.reg.MustRegister(g.denied)
	return g, nil
}

// checkPolicy decides on s. A refusal comes back as process's outcome; an
// allowed transaction may come with a reservation of its daily limits, which
// process records with the signature or releases. Without a policy it allows.
func (d *Daemon) checkPolicy(code string, s Subject) (*policy.Reservation, *outcome) {
	if d.guard == nil {
		return nil, nil
	}
	dec, res := d.guard.meter.Decide(PolicyInput(s), s.Tx.ID)
	if dec.Allow {
		d.log.Debug("allowed by the policy", "chain", code, "id", s.Tx.ID, "rule", dec.Rule)
		return res, nil
	}
	d.guard.denied.WithLabelValues(code).Inc()
	o := d.refusedOutcome(code, s.Tx.ID, "policy", signerRefusal+dec.Reason)
	return nil, &o
}

// PolicyInput is what the policy decides on for s: its intent, the wallets
// the transaction names and its keys' derivation indexes.
func PolicyInput(s Subject) policy.Input {
	wallets := append([]string(nil), s.Tx.Hashes...)
	for _, sig := range s.Tx.Signatures {
		wallets = append(wallets, sig.ID)
	}
	return policy.Input{Intent: s.Intent, Decoded: s.Decoded, Wallets: wallets, Indexes: s.Indexes}
}
