package daemon

import (
	"context"
	"errors"
)

// A transaction the approval service refused (HTTP 403, 409 or 410) is
// ended rather than asked about again: the daemon notes the refusal in its
// ledger, then reports it to the API with "refused": true, and the API fails
// the transaction and frees the sequence it held. The ledger keeps the
// daemon from asking again, across restarts, even while the API still serves
// the transaction; a report the API did not take is sent again each run
// until it does.

// refusedOutcome is process's answer to a refusal.
func (d *Daemon) refusedOutcome(code, id string, err error) outcome {
	reason := err.Error()
	if re := (*RefusedError)(nil); errors.As(err, &re) {
		reason = re.Reason // the API prefixes what it stores with the refusal itself
	}
	d.log.Warn("transaction refused by the approval service: ended, not asked about again", "chain", code, "id", id, "reason", reason)
	return outcome{sum: Summary{Rejected: 1}, refused: reason,
		report: &TxError{SignatureID: id, Error: reason, Refused: true}}
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
		d.log.Debug("not asked about again: refused by the approval service", "chain", code, "id", tx.ID, "reason", r.Reason)
	}
	return out, unreported
}

// report posts a run's failures and notes in the ledger the refusals among
// them once the API has taken them.
func (d *Daemon) report(ctx context.Context, code string, reports []TxError) {
	if len(reports) == 0 {
		return
	}
	if err := d.auditReports(ctx, code, reports); err != nil {
		// Unreported, a refusal is reported again next run; a failure is
		// met again when the transaction is.
		d.m.auditFailures.WithLabelValues(code).Inc()
		d.log.Error("audit log not written: failures not reported", "chain", code, "count", len(reports), "error", err)
		return
	}
	if err := d.api.ReportErrors(ctx, reports); err != nil {
		d.log.Error("reporting failures to the API", "chain", code, "count", len(reports), "error", err)
		return
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
}
