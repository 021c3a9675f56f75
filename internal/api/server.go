// Package api owns the HTTP interface of `custos serve`: the pending-transaction
// routes of /v3, their validation and error body, API-key authentication,
// tenant isolation, credit metering, health and metrics endpoints, and the
// OpenAPI document that describes them.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/pending"
)

// DefaultMaxBody bounds request bodies. It admits a pending query of more
// than a million signature IDs (39 bytes each as JSON), where Tatum stops at 25,000.
const DefaultMaxBody = 48 << 20

// DefaultBroadcastTimeout bounds one call to a chain node.
const DefaultBroadcastTimeout = 30 * time.Second

// Config is what a Server is built from.
type Config struct {
	Store pending.Store
	// Nodes are the chain nodes transactions are broadcast through; nil means none.
	Nodes *broadcast.Nodes
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registry receives the server's metrics; nil makes a private one with
	// the Go and process collectors.
	Registry *prometheus.Registry
	// MaxBody defaults to DefaultMaxBody.
	MaxBody int64
	// BroadcastTimeout defaults to DefaultBroadcastTimeout.
	BroadcastTimeout time.Duration
	// ExtraChainIDs are network ids accepted beyond a chain's public ones (a
	// private dev chain's), by chain code, for testnet (true) and mainnet
	// (false) API keys. Validation and completion get them per request.
	ExtraChainIDs map[bool]map[string][]uint64
}

// Server serves the API. Build it with New.
type Server struct {
	store            pending.Store
	nodes            *broadcast.Nodes
	log              *slog.Logger
	reg              *prometheus.Registry
	maxBody          int64
	broadcastTimeout time.Duration
	metrics          *metrics
	// metricsHandler serves /metrics; built once, not per scrape.
	metricsHandler http.Handler
	// openapiDoc is built once; every request only encodes it.
	openapiDoc obj
	handler    http.Handler
	// lookupChain finds a chain's codec; tests substitute chains with codecs.
	lookupChain func(code string) (chain.Chain, error)
	// extraChainIDs is Config.ExtraChainIDs, never written to.
	extraChainIDs map[bool]map[string][]uint64
}

// observe, when set (by tests), sees the route and status of every answer.
var observe func(route string, status int)

// route is one entry of the route table; the OpenAPI test walks the same table.
type route struct {
	method, path string
	// auth marks the /v3 routes that need X-API-Key.
	auth bool
	h    func(w http.ResponseWriter, r *http.Request) error
}

// New builds a Server.
func New(cfg Config) *Server {
	s := &Server{store: cfg.Store, nodes: cfg.Nodes, log: cfg.Logger, reg: cfg.Registry,
		maxBody: cfg.MaxBody, broadcastTimeout: cfg.BroadcastTimeout, lookupChain: chains.Lookup,
		extraChainIDs: cfg.ExtraChainIDs}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.broadcastTimeout <= 0 {
		s.broadcastTimeout = DefaultBroadcastTimeout
	}
	if s.reg == nil {
		s.reg = newRegistry()
	}
	s.metrics = newMetrics(s.reg, s.store)
	s.metricsHandler = promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})
	s.openapiDoc = openAPIDocument()
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
	}
	s.handler = s.fallback(mux)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() []route {
	return []route{
		{http.MethodPost, "/v3/kms", true, s.createTx},
		{http.MethodGet, "/v3/kms/pending/{chain}", true, s.pendingGet},
		{http.MethodPost, "/v3/kms/pending/{chain}", true, s.pendingPost},
		{http.MethodPut, "/v3/kms/{id}/{txId}", true, s.completeTx},
		{http.MethodGet, "/v3/kms/{id}", true, s.getTx},
		{http.MethodDelete, "/v3/kms/{id}", true, s.deleteTx},
		{http.MethodPost, "/v3/{slug}/broadcast", true, s.broadcastTx},
		{http.MethodPost, "/v3/tatum/kms/batch", true, s.reportErrors},
		{http.MethodGet, "/v3/{slug}/transaction/count/{address}", true, s.transactionCount},
		{http.MethodPost, "/v3/{slug}/web3/{" + pathKeyParam + "}", true, s.web3},
		{http.MethodGet, "/healthz", false, s.healthz},
		{http.MethodGet, "/readyz", false, s.readyz},
		{http.MethodGet, "/metrics", false, s.serveMetrics},
		{http.MethodGet, "/openapi.json", false, s.openapi},
	}
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// wrap adds what every route shares: panic recovery (a panic is a bug and
// answers 500 with the error body), authentication, metrics and logging.
func (s *Server) wrap(rt route) http.Handler {
	name := rt.method + " " + rt.path
	// A route whose path holds {apiKey} (Tatum's web3 gateway URL carries
	// the key) authenticates with it instead of X-API-Key.
	keyInPath := strings.Contains(rt.path, "{"+pathKeyParam+"}")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		var keyID string
		defer func() {
			if p := recover(); p != nil {
				s.log.ErrorContext(r.Context(), "handler panic", "route", name, "panic", p)
				if sw.status == 0 {
					writeError(sw, s.log, r, &Error{ErrorCode: CodeInternal, Message: internalErrorMessage, StatusCode: http.StatusInternalServerError})
				}
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(name, strconv.Itoa(sw.status)).Inc()
			s.metrics.duration.WithLabelValues(name).Observe(d.Seconds())
			if observe != nil {
				observe(name, sw.status)
			}
			if rt.auth {
				s.log.InfoContext(r.Context(), "request", "route", name, "status", sw.status,
					"duration_ms", d.Milliseconds(), "api_key_id", keyID)
			}
		}()
		if rt.auth {
			secret := r.Header.Get("X-API-Key")
			if keyInPath {
				secret = r.PathValue(pathKeyParam)
			}
			k, err := s.authenticate(r, secret)
			if err != nil {
				writeError(sw, s.log, r, err)
				return
			}
			keyID = k.ID
			r = r.WithContext(context.WithValue(r.Context(), keyCtx{}, k))
		}
		if err := rt.h(sw, r); err != nil {
			writeError(sw, s.log, r, err)
		}
	})
}

// discardWriter records what the mux would answer for an unrouted request.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }

// fallback answers requests no route matches (404, or 405 with Allow) in the
// error body instead of the mux's plain text.
func (s *Server) fallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		d := &discardWriter{h: http.Header{}}
		h.ServeHTTP(d, r)
		e := &Error{ErrorCode: CodeRouteNotFound, Message: routeNotFoundMessage, StatusCode: http.StatusNotFound}
		if d.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", d.h.Get("Allow"))
			e = &Error{ErrorCode: CodeMethodNotAllowed, Message: methodNotAllowMessage, StatusCode: http.StatusMethodNotAllowed}
		}
		s.metrics.requests.WithLabelValues("unrouted", strconv.Itoa(e.StatusCode)).Inc()
		writeJSON(w, e.StatusCode, e)
	})
}

// charge meters credits for the calling key. A failed write is logged, not
// answered: the transaction work is already done.
func (s *Server) charge(r *http.Request, n int64) {
	k := keyFrom(r.Context())
	if err := s.store.AddCredits(r.Context(), k.ID, n); err != nil {
		s.log.ErrorContext(r.Context(), "metering credits failed", "api_key_id", k.ID, "credits", n, "err", err)
		return
	}
	s.metrics.credits.WithLabelValues(k.ID).Add(float64(n))
}
