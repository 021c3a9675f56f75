package api

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/pending"
)

type metrics struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	credits    *prometheus.CounterVec
	broadcasts *prometheus.CounterVec
	// completions counts transactions completed from a node at creation.
	completions *prometheus.CounterVec
	txErrors    prometheus.Counter
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func newMetrics(reg *prometheus.Registry, store pending.Store) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "custos_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10),
		}, []string{"route"}),
		credits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_credits_charged_total", Help: "Credits metered by this process, by API key id.",
		}, []string{"api_key_id"}),
		broadcasts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_broadcasts_total", Help: "Broadcasts to chain nodes by chain and result.",
		}, []string{"chain", "result"}),
		completions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_completions_total", Help: "Transactions completed from the chain's node at creation, by chain and result (ok, refused, unavailable).",
		}, []string{"chain", "result"}),
		txErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "custos_signer_errors_total", Help: "Error reports recorded from signers.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.credits, m.broadcasts, m.completions, m.txErrors, &creditsCollector{store: store})
	return m
}

// creditsCollector exports each key's persisted credit meter at scrape time,
// so the totals survive restarts and agree with `apikey list`.
type creditsCollector struct{ store pending.Store }

var creditsDesc = prometheus.NewDesc("custos_api_key_credits", "Credits used by each API key since it was created.",
	[]string{"api_key_id", "name", "network"}, nil)

func (c *creditsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- creditsDesc }

func (c *creditsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	keys, err := c.store.Keys(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(creditsDesc, err)
		return
	}
	for _, k := range keys {
		net := chain.NetworkName(k.Testnet)
		ch <- prometheus.MustNewConstMetric(creditsDesc, prometheus.CounterValue, float64(k.Credits), k.ID, k.Name, net)
	}
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(r.Context(), "not ready", "err", err)
		return &Error{ErrorCode: CodeStoreUnavailable, Message: storeUnavailableMsg, StatusCode: http.StatusServiceUnavailable}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	s.metricsHandler.ServeHTTP(w, r)
	return nil
}
