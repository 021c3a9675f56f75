package webhook

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custoskms/custos/internal/pending"
)

// Each attempt is counted by its result, a dead letter on its own, and timed.
func TestDeliveryMetrics(t *testing.T) {
	s := openStore(t)
	ok := newReceiver(t, always(http.StatusOK))
	down := newReceiver(t, always(http.StatusInternalServerError))
	subscribe(t, s, pending.EventCompleted, ok.srv.URL)
	subscribe(t, s, pending.EventCompleted, down.srv.URL)
	complete(t, s, "0xfeed000001")
	reg := prometheus.NewRegistry()
	run(t, s, Config{Guard: Guard{AllowLoopback: true}, MaxAttempts: 3, BaseDelay: 5 * time.Millisecond, Registry: reg})
	waitDeadLetter(t, s)
	eventually(t, "the delivery", func() bool { return len(ok.got()) == 1 })

	want := map[string]float64{resultDelivered: 1, resultRetried: 2, resultDeadLettered: 1}
	eventually(t, "the counts", func() bool {
		for result, n := range want {
			if count(t, reg, result) != n {
				return false
			}
		}
		return true
	})
	if got := histogramCount(t, reg); got != 4 {
		t.Fatalf("latency histogram counted %d attempts, want 4", got)
	}
}

// count reads the deliveries of one result from reg.
func count(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "custos_webhook_deliveries_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no custos_webhook_deliveries_total{result=%q}", result)
	return 0
}

func histogramCount(t *testing.T, reg *prometheus.Registry) uint64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "custos_webhook_delivery_duration_seconds" {
			return f.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	return 0
}
