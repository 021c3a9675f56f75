package webhook

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of a delivery attempt, the values of the result label.
const (
	resultDelivered    = "delivered"
	resultRetried      = "retried"
	resultDeadLettered = "dead_lettered"
)

// metrics are the worker's Prometheus series: a dead letter is an event a
// receiver will never get unless an operator acts, so it is counted on its
// own result, and the latency shows receivers slowing down before they time
// out.
type metrics struct {
	deliveries *prometheus.CounterVec
	duration   prometheus.Histogram
}

// newMetrics registers the series on reg; nil keeps them unregistered (a
// worker built without a registry still counts, nobody reads it).
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_webhook_deliveries_total",
			Help: "Webhook delivery attempts by result: delivered (2xx), retried (failed, tried again later) or dead_lettered (failed for the last time).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "custos_webhook_delivery_duration_seconds", Help: "Time a webhook receiver took to answer an attempt, or to fail it.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 8),
		}),
	}
	// Every result exists from the start, so that increase() sees the first one.
	for _, r := range []string{resultDelivered, resultRetried, resultDeadLettered} {
		m.deliveries.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.duration)
	}
	return m
}

func (m *metrics) attempt(result string, took time.Duration) {
	m.deliveries.WithLabelValues(result).Inc()
	m.duration.Observe(took.Seconds())
}
