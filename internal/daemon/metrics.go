package daemon

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the daemon's Prometheus series, on a registry of its own so that
// several daemons (tests, `custos dev`) can live in one process.
type metrics struct {
	reg                                              *prometheus.Registry
	signed, submitted, resubmitted, failed, rejected *prometheus.CounterVec
	auditFailures                                    *prometheus.CounterVec
	runSeconds                                       *prometheus.HistogramVec
}

func newMetrics() *metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "custos", Subsystem: "daemon", Name: name, Help: help}, []string{"chain"})
	}
	m := &metrics{
		reg:         prometheus.NewRegistry(),
		signed:      counter("signed_total", "Pending transactions signed and recorded in the ledger."),
		submitted:   counter("submitted_total", "Signed transactions the API accepted for broadcast."),
		resubmitted: counter("resubmitted_total", "Transactions submitted again from the ledger instead of being signed again."),
		failed:      counter("failed_total", "Pending transactions that failed to resolve keys, sign or submit (reported to the API)."),
		rejected:    counter("rejected_total", "Pending transactions the approval service did not approve (left pending, or refused for good), or refused as ambiguous JSON."),
		auditFailures: counter("audit_failures_total",
			"Decisions, key uses and reports not acted on because the audit log could not be written (left pending)."),
		runSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "custos", Subsystem: "daemon",
			Name: "run_duration_seconds", Help: "Duration of one period's run for a chain.",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 8)}, []string{"chain"}),
	}
	m.reg.MustRegister(m.signed, m.submitted, m.resubmitted, m.failed, m.rejected, m.auditFailures, m.runSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MetricsHandler serves the daemon's metrics in the Prometheus text format.
func (d *Daemon) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(d.m.reg, promhttp.HandlerOpts{})
}
