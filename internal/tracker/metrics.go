package tracker

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custoskms/custos/internal/pending"
)

var (
	trackedDesc = prometheus.NewDesc("custos_tracker_tracked",
		"Broadcast transactions not yet final that this replica checked recently, by chain.", []string{"chain"}, nil)
	oldestDesc = prometheus.NewDesc("custos_tracker_oldest_broadcast_seconds",
		"Age of the oldest broadcast transaction not yet final, by chain, counted from this replica's first check of it.",
		[]string{"chain"}, nil)
)

// metrics are the tracker's Prometheus series. The stuck transactions are
// measured from what the tracker already reads (its claims) instead of a
// store query per scrape: each replica reports the transactions it checks,
// and max by (chain) over the replicas gives the oldest.
type metrics struct {
	outcomes *prometheus.CounterVec
	inFlight *inFlight
}

// newMetrics registers the series on reg; nil keeps them unregistered.
func newMetrics(reg prometheus.Registerer, forget time.Duration) *metrics {
	m := &metrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_tracker_outcomes_total",
			Help: "Final states the tracker recorded, by chain and state (confirmed, failed, dropped, replaced).",
		}, []string{"chain", "state"}),
		inFlight: &inFlight{seen: map[string]seen{}, forget: forget, now: time.Now},
	}
	if reg != nil {
		reg.MustRegister(m.outcomes, m.inFlight)
	}
	return m
}

// inFlight remembers the transactions this replica checks until they are
// final, and when it first checked each. One another replica goes on
// checking (the claims are shared) or finished is forgotten once this one
// has not seen it for forget, so that it is not reported stuck forever.
type inFlight struct {
	mu     sync.Mutex
	seen   map[string]seen
	forget time.Duration
	now    func() time.Time
}

type seen struct {
	chain       string
	first, last time.Time
}

func key(tr pending.Tracked) string { return tr.Tenant + "/" + tr.ID }

// check notes a check of tr.
func (f *inFlight) check(tr pending.Tracked) {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.seen[key(tr)]
	if !ok {
		s = seen{chain: tr.Chain, first: now}
	}
	s.last = now
	f.seen[key(tr)] = s
}

// done forgets tr: it is final, or no longer checked.
func (f *inFlight) done(tr pending.Tracked) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.seen, key(tr))
}

func (f *inFlight) Describe(ch chan<- *prometheus.Desc) {
	ch <- trackedDesc
	ch <- oldestDesc
}

// Collect reports per chain; it walks the replica's own transactions in
// flight (at most those of its claims), never the store.
func (f *inFlight) Collect(ch chan<- prometheus.Metric) {
	now := f.now()
	count := map[string]int{}
	oldest := map[string]time.Duration{}
	f.mu.Lock()
	for k, s := range f.seen {
		if now.Sub(s.last) > f.forget {
			delete(f.seen, k)
			continue
		}
		count[s.chain]++
		oldest[s.chain] = max(oldest[s.chain], now.Sub(s.first))
	}
	f.mu.Unlock()
	for chain, n := range count {
		ch <- prometheus.MustNewConstMetric(trackedDesc, prometheus.GaugeValue, float64(n), chain)
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, oldest[chain].Seconds(), chain)
	}
}
