package daemon

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the daemon's Prometheus series, on Config.Registry or a
// registry of its own.
type metrics struct {
	reg                                              *prometheus.Registry
	signed, submitted, resubmitted, failed, rejected *prometheus.CounterVec
	auditFailures                                    *prometheus.CounterVec
	runSeconds                                       *prometheus.HistogramVec
	pending, oldestPending                           *prometheus.GaugeVec
	ages                                             *pendingAges
}

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "custos", Subsystem: "daemon", Name: name, Help: help}, []string{"chain"})
	}
	m := &metrics{
		reg:         reg,
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
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "custos", Subsystem: "daemon",
			Name: "pending_transactions", Help: "Pending transactions the API served this signer at its last run, by chain."}, []string{"chain"}),
		oldestPending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "custos", Subsystem: "daemon",
			Name: "oldest_pending_seconds", Help: "Age of the oldest transaction still pending at the last run, counted from when this signer first saw it, by chain."},
			[]string{"chain"}),
		ages: newPendingAges(),
	}
	m.reg.MustRegister(m.signed, m.submitted, m.resubmitted, m.failed, m.rejected, m.auditFailures, m.runSeconds, m.pending, m.oldestPending)
	return m
}

// observePending sets chain's backlog gauges from the transactions served at now.
func (m *metrics) observePending(chain string, served []PendingTx, now time.Time) {
	m.pending.WithLabelValues(chain).Set(float64(len(served)))
	m.oldestPending.WithLabelValues(chain).Set(m.ages.observe(chain, served, now).Seconds())
}

// MetricsHandler serves the daemon's metrics in the Prometheus text format.
func (d *Daemon) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(d.m.reg, promhttp.HandlerOpts{})
}
