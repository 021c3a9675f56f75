package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/chain"
)

// The audit log (docs/design.md §7.4) records every decision on a
// transaction and every use of a key, before the act it records: a decision
// before the daemon acts on it, a key use before signing, a signature before
// it is recorded in the ledger and submitted, a report before it is sent.
// When an entry cannot be written the act does not happen (fail closed, as
// Vault blocks when no audit device can log): the transaction stays pending,
// unsigned or unsubmitted, and the next run tries again. Entries hold ids,
// indexes and digests, never a key.

// Auditor records events durably; *audit.Log is the implementation.
type Auditor interface {
	Append(ctx context.Context, events ...audit.Event) error
}

var _ Auditor = (*audit.Log)(nil)

// audit appends events to the configured log; without one (Config.Audit
// nil) it records nothing.
func (d *Daemon) audit(ctx context.Context, events ...audit.Event) error {
	if d.cfg.Audit == nil {
		return nil
	}
	return d.cfg.Audit.Append(ctx, events...)
}

// digest is the hex SHA-256 of a transaction's bytes, which names them in
// the log without copying them.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// subjectFields name a transaction in the log: its pending id, chain, the
// digest of the bytes to sign, the signature IDs and derivation indexes of
// its keys.
func subjectFields(code string, s Subject) map[string]any {
	ids := make([]string, 0, len(s.Tx.Hashes)+len(s.Tx.Signatures))
	ids = append(ids, s.Tx.Hashes...)
	for _, sig := range s.Tx.Signatures {
		ids = append(ids, sig.ID)
	}
	// Room for a decision's members too (decisionEvent), so that the map
	// is built once.
	f := make(map[string]any, 8)
	f["id"], f["chain"], f["signatureIds"] = s.Tx.ID, code, ids
	if s.Tx.SerializedTransaction != "" {
		// A transaction refused as ambiguous JSON when parsed keeps only its id.
		f["digest"] = s.txDigest()
	}
	if len(s.Indexes) > 0 {
		f["indexes"] = s.Indexes
	}
	return f
}

// auditDecision records the decision of one step of the guard on s: step is
// "approval", "policy" or "json" (the transaction's JSON, refused when
// ambiguous); decision is "approved", "not_approved" (left pending) or
// "refused" (for good), with its reason. The caller acts on the decision
// only when this returns nil.
func (d *Daemon) auditDecision(ctx context.Context, code, step string, s Subject, decision, reason string) error {
	return d.audit(ctx, decisionEvent(code, step, s, decision, reason))
}

// decisionEvent is auditDecision's entry.
func decisionEvent(code, step string, s Subject, decision, reason string) audit.Event {
	f := subjectFields(code, s)
	f["step"], f["decision"] = step, decision
	if reason != "" {
		f["reason"] = reason
	}
	return audit.Event{Type: "tx.decision", Fields: f}
}

// approvalDecision is the audit log's decision and reason for Approve's
// answer err: nil approves, one wrapping ErrRefused refuses for good, any
// other leaves the transaction pending.
func approvalDecision(err error) (decision, reason string) {
	switch {
	case err == nil:
		return "approved", ""
	case errors.Is(err, ErrRefused):
		return "refused", err.Error()
	default:
		return "not_approved", err.Error()
	}
}

// auditKeyUse records that the keys of s are about to sign its bytes, after
// the events before (in the same append, so in this order and at once).
func (d *Daemon) auditKeyUse(ctx context.Context, code string, s Subject, before ...audit.Event) error {
	return d.audit(ctx, append(before, audit.Event{Type: "key.use", Fields: subjectFields(code, s)})...)
}

// auditSigned records a signature before the ledger and the API see it.
func (d *Daemon) auditSigned(ctx context.Context, code string, tx PendingTx, signed chain.Signed) error {
	return d.audit(ctx, audit.Event{Type: "tx.signed", Fields: map[string]any{
		"id": tx.ID, "chain": code, "txId": signed.TxID, "signedDigest": digest(signed.TxData)}})
}

// auditReports records the failures and refusals a run is about to report.
func (d *Daemon) auditReports(ctx context.Context, code string, reports []TxError) error {
	events := make([]audit.Event, len(reports))
	for i, r := range reports {
		events[i] = audit.Event{Type: "tx.reported", Fields: map[string]any{
			"id": r.SignatureID, "chain": code, "error": r.Error, "refused": r.Refused}}
	}
	return d.audit(ctx, events...)
}

// auditFailed is process's answer when the log cannot be written: nothing
// more is done with the transaction and nothing is reported; it stays
// pending for the next run.
func (d *Daemon) auditFailed(code, id string, err error) outcome {
	d.m.auditFailures.WithLabelValues(code).Inc()
	d.log.Error("audit log not written: transaction left pending, nothing signed or submitted", "chain", code, "id", id, "error", err)
	return outcome{sum: Summary{Failed: 1}}
}

// auditPolicy records the signing policy's decision on s (refused is
// checkPolicy's outcome for a refusal, nil when allowed), before the
// decision takes effect.
func (d *Daemon) auditPolicy(ctx context.Context, code string, s Subject, refused *outcome) error {
	if d.guard == nil {
		return nil
	}
	return d.audit(ctx, policyEvent(code, s, refused))
}

// policyEvent is auditPolicy's entry.
func policyEvent(code string, s Subject, refused *outcome) audit.Event {
	if refused != nil {
		return decisionEvent(code, "policy", s, "refused", refused.refused)
	}
	return decisionEvent(code, "policy", s, "approved", "")
}
