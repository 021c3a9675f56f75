package daemon

import (
	"context"
	"errors"
)

// A transaction refused for good is ended rather than asked about again. Three
// things refuse: the approval service (a signed v2 refusal, or HTTP 403, 409
// or 410 in v1), the daemon's signing policy, and the daemon itself when the
// transaction's JSON is ambiguous (a duplicate or case-variant key). The
// daemon notes the refusal in its ledger, then reports it to the API with
// "refused": true, and the API fails the transaction and frees the sequence
// it held. The ledger keeps the daemon from asking again, across restarts,
// even while the API still serves the transaction; a report the API did not
// take is sent again each run until it does.
//
// The reason reported names who refused, "refused by the approval service: …"
// (ErrRefused's message) or "refused by the signer: …", and the API stores
// it as it is: the transaction's error tells an application whom to ask.

// signerRefusal starts the reason of a refusal the daemon decides itself.
const signerRefusal = "refused by the signer: "

// refusedOutcome is process's answer to a final refusal; by names the
// deciding step for the log, reason is what the API is told.
func (d *Daemon) refusedOutcome(code, id, by, reason string) outcome {
	d.log.Warn("transaction refused for good: ended, not asked about again", "chain", code, "id", id, "by", by, "reason", reason)
	return outcome{sum: Summary{Rejected: 1}, refused: reason,
		report: &TxError{SignatureID: id, Error: reason, Refused: true}}
}

// refuseAmbiguous ends tx, whose JSON (or JSON serializedTransaction) has
// a duplicate or case-variant key (err wraps ErrAmbiguousJSON): what the
// API serves cannot change by itself, so asking again would only report it
// again every period. The refusal is audited before it takes effect.
func (d *Daemon) refuseAmbiguous(ctx context.Context, code string, tx PendingTx, err error) outcome {
	reason := signerRefusal + err.Error()
	if aerr := d.auditDecision(ctx, code, "json", Subject{Tx: tx}, "refused", reason); aerr != nil {
		return d.auditFailed(code, tx.ID, aerr)
	}
	d.m.rejected.WithLabelValues(code).Inc()
	return d.refusedOutcome(code, tx.ID, "ambiguous JSON", reason)
}

// approvalRefusal is the reason reported for the approval service's refusal
// err: RefusedError's message already names the service.
func approvalRefusal(err error) string {
	if re := (*RefusedError)(nil); errors.As(err, &re) {
		return re.Error()
	}
	return err.Error()
}

// unrefused leaves out of a run the transactions the ledger holds as
// refused, and returns the reports of those whose refusal the API has not
// taken yet.
func (d *Daemon) unrefused(code string, txs []PendingTx, refusals map[string]Refusal) (_ []PendingTx, unreported []TxError) {
	if len(refusals) == 0 {
		return txs, nil
	}
	out := txs[:0:0]
	for _, tx := range txs {
		r, ok := refusals[tx.ID]
		if !ok {
			out = append(out, tx)
			continue
		}
		if !r.Reported {
			unreported = append(unreported, TxError{SignatureID: tx.ID, Error: r.Reason, Refused: true})
		}
		d.log.Debug("not asked about again: refused for good", "chain", code, "id", tx.ID, "reason", r.Reason)
	}
	return out, unreported
}

// report posts a run's failures and notes in the ledger the refusals among
// them once the API has taken them. It reports whether the API took them.
func (d *Daemon) report(ctx context.Context, code string, reports []TxError) bool {
	if len(reports) == 0 {
		return true
	}
	if err := d.auditReports(ctx, code, reports); err != nil {
		// Unreported, a refusal is reported again next run; a failure is
		// met again when the transaction is.
		d.m.auditFailures.WithLabelValues(code).Inc()
		d.log.Error("audit log not written: failures not reported", "chain", code, "count", len(reports), "error", err)
		return false
	}
	if err := d.api.ReportErrors(ctx, reports); err != nil {
		d.log.Error("reporting failures to the API", "chain", code, "count", len(reports), "error", err)
		return false
	}
	var ids []string
	for _, r := range reports {
		if r.Refused {
			ids = append(ids, r.SignatureID)
		}
	}
	if err := d.ledger.MarkReported(ctx, ids); err != nil {
		d.log.Warn("ledger: noting reported refusals", "chain", code, "error", err)
	}
	return true
}
