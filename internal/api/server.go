// Package api owns the HTTP interface of `custos serve`: the pending-transaction
// routes of /v3, their validation and error body, API-key authentication,
// tenant isolation, credit metering, health and metrics endpoints, and the
// OpenAPI document that describes them.
package api

import (
	"context"
	"log/slog"
	"math/big"
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
	"github.com/custoskms/custos/internal/ratelimit"
	"github.com/custoskms/custos/internal/webhook"
)

// Request body caps, one per route (routes). A body over its route's cap is
// refused (413) before it is read to the end, so that a key cannot make the
// server buffer 48 MiB on a route that needs a few bytes.
const (
	// DefaultMaxBody bounds a pending query (POST /v3/kms/pending/{chain}).
	// It admits more than a million signature IDs (39 bytes each as JSON),
	// where Tatum stops at 25,000.
	DefaultMaxBody = 48 << 20
	// MaxTxBody bounds a request carrying one transaction (queue, broadcast).
	// The largest a chain takes is far smaller: an EVM contract creation's
	// init code is at most 48 KiB (96 KiB as hex), a standard Bitcoin
	// transaction at most 100 kB (its bitcore JSON a few times that).
	MaxTxBody = 1 << 20
	// MaxReportBody bounds a batch of signer error reports: the daemon sends
	// at most daemon.ReportChunk reports of a few KiB each per request.
	MaxReportBody = 4 << 20
	// MaxNoBody bounds routes that read no body (GET, DELETE, complete).
	MaxNoBody = 4 << 10
)

// Per-key rate limit defaults of `custos serve`: well above what one signer
// and one busy application send together (the benchmarks' hot wallet queues
// about 1,700 requests/s through one key on two cores), so that the limit
// only stops a key that would take the whole server from the others.
const (
	DefaultRateLimit = 2000
	DefaultRateBurst = 4000
)

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
	// MaxBody caps the pending queries' bodies; it defaults to
	// DefaultMaxBody. The other routes have their own caps (routes).
	MaxBody int64
	// RateLimit is the requests per second each API key may make, with
	// bursts of RateBurst (at least 1); 0 disables the limit. The buckets
	// live in this process: N replicas admit up to N times the rate.
	RateLimit float64
	RateBurst int
	// BroadcastTimeout defaults to DefaultBroadcastTimeout.
	BroadcastTimeout time.Duration
	// ExtraChainIDs are network ids accepted beyond a chain's public ones (a
	// private dev chain's), by chain code, for testnet (true) and mainnet
	// (false) API keys. Validation and completion get them per request.
	ExtraChainIDs map[bool]map[string][]uint64
	// MaxGasPrice caps, in wei per chain code, the EVM gas price a node may
	// fill into a queued transaction (kms_create_gascap.go); none when absent.
	MaxGasPrice map[string]*big.Int
	// Webhooks decides which receiver URLs a subscription may name; its
	// zero value refuses private, loopback and link-local addresses.
	Webhooks webhook.Guard
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
	// maxGasPrice is Config.MaxGasPrice, never written to.
	maxGasPrice map[string]*big.Int
	// limiter is nil when the rate limit is disabled.
	limiter *ratelimit.Limiter
	// webhooks is Config.Webhooks.
	webhooks webhook.Guard
}

// observe, when set (by tests), sees the route and status of every answer.
var observe func(route string, status int)

// route is one entry of the route table; the OpenAPI document and its tests
// walk the same table.
type route struct {
	method, path string
	// scope is what the route's X-API-Key must hold; public routes (no key) have none.
	scope pending.Scopes
	// maxBody caps the request body.
	maxBody int64
	h       func(w http.ResponseWriter, r *http.Request) error
}

// public marks a route that needs no API key.
const public pending.Scopes = 0

// New builds a Server.
func New(cfg Config) *Server {
	s := &Server{store: cfg.Store, nodes: cfg.Nodes, log: cfg.Logger, reg: cfg.Registry,
		maxBody: cfg.MaxBody, broadcastTimeout: cfg.BroadcastTimeout, lookupChain: chains.Lookup,
		extraChainIDs: cfg.ExtraChainIDs, maxGasPrice: cfg.MaxGasPrice, webhooks: cfg.Webhooks}
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
	if cfg.RateLimit > 0 {
		s.limiter = ratelimit.New(cfg.RateLimit, cfg.RateBurst, 0, time.Now)
	}
	s.metrics = newMetrics(s.reg, s.store)
	s.metricsHandler = promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})
	rts := s.routes()
	s.openapiDoc = openAPIDocument(rts)
	mux := http.NewServeMux()
	for _, rt := range rts {
		mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
	}
	s.handler = s.fallback(mux)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// MetricsHandler serves the metrics without a key, for a listener of its own
// (`custos serve --metrics-listen`) that only the scraper reaches; on the API
// listener GET /metrics needs a key with the admin scope.
func (s *Server) MetricsHandler() http.Handler { return s.metricsHandler }

// Registry is the registry MetricsHandler serves, on which the workers that
// run beside the server (webhook deliveries, outcome tracking) register
// theirs, so that one scrape shows them all.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// routes is the route table, and the one place that says which scope each
// route needs: the application (queue) queues, reads and deletes its
// transactions; the signer (sign) fetches pending ones, broadcasts,
// completes and reports errors; admin reads the server's metrics. Webhook
// subscriptions are the application's (queue). A route added here without a
// scope is public.
func (s *Server) routes() []route {
	rts := []route{
		{http.MethodPost, "/v3/kms", pending.ScopeQueue, MaxTxBody, s.createTx},
		{http.MethodGet, "/v3/kms/pending/{chain}", pending.ScopeSign, MaxNoBody, s.pendingGet},
		{http.MethodPost, "/v3/kms/pending/{chain}", pending.ScopeSign, s.maxBody, s.pendingPost},
		{http.MethodPost, "/v3/kms/lease", pending.ScopeSign, MaxLeaseBody, s.renewLeases},
		{http.MethodPut, "/v3/kms/{id}/{txId}", pending.ScopeSign, MaxNoBody, s.completeTx},
		{http.MethodGet, "/v3/kms/{id}", pending.ScopeQueue, MaxNoBody, s.getTx},
		{http.MethodGet, "/v3/kms/transactions", pending.ScopeQueue, MaxNoBody, s.listTxs},
		{http.MethodDelete, "/v3/kms/{id}", pending.ScopeQueue, MaxNoBody, s.deleteTx},
		{http.MethodPost, "/v3/kms/speedup/{id}", pending.ScopeQueue, MaxReplaceBody, s.speedUpTx},
		{http.MethodPost, "/v3/kms/cancel/{id}", pending.ScopeQueue, MaxReplaceBody, s.cancelTx},
		{http.MethodPost, "/v3/{slug}/broadcast", pending.ScopeSign, MaxTxBody, s.broadcastTx},
		{http.MethodPost, "/v3/{slug}/broadcast/batch", pending.ScopeSign, MaxBroadcastBatchBody, s.broadcastBatch},
		{http.MethodPost, "/v3/{slug}/transaction", pending.ScopeQueue, MaxTxBody, s.transfer},
		{http.MethodPost, "/v3/blockchain/estimate", pending.ScopeQueue, MaxTxBody, s.estimate},
		{http.MethodPost, "/v3/tatum/kms/batch", pending.ScopeSign, MaxReportBody, s.reportErrors},
		{http.MethodGet, "/v3/{slug}/transaction/count/{address}", pending.ScopeSign, MaxNoBody, s.transactionCount},
		{http.MethodPost, "/v3/{slug}/web3/{" + pathKeyParam + "}", pending.ScopeSign, maxWeb3Body, s.web3},
		{http.MethodPost, "/v3/subscription", pending.ScopeQueue, MaxSubscriptionBody, s.createSubscription},
		{http.MethodGet, "/v3/subscription", pending.ScopeQueue, MaxNoBody, s.listSubscriptions},
		{http.MethodPut, "/v3/subscription", pending.ScopeQueue, MaxSubscriptionBody, s.enableHMAC},
		{http.MethodDelete, "/v3/subscription", pending.ScopeQueue, MaxNoBody, s.disableHMAC},
		{http.MethodDelete, "/v3/subscription/{id}", pending.ScopeQueue, MaxNoBody, s.deleteSubscription},
		{http.MethodGet, "/v3/subscription/dead-letters", pending.ScopeQueue, MaxNoBody, s.listDeadLetters},
		{http.MethodPost, "/v3/subscription/dead-letters/{id}/retry", pending.ScopeQueue, MaxNoBody, s.retryDeadLetter},
		{http.MethodGet, "/metrics", pending.ScopeAdmin, MaxNoBody, s.serveMetrics},
		{http.MethodGet, "/healthz", public, MaxNoBody, s.healthz},
		{http.MethodGet, "/readyz", public, MaxNoBody, s.readyz},
		{http.MethodGet, "/openapi.json", public, MaxNoBody, s.openapi},
	}
	// Each node gateway is two routes: TronWeb reads with GET and POST.
	for _, g := range nodeGatewayChains {
		rts = append(rts,
			route{http.MethodGet, nodeGatewayPath(g.Info().Slug), pending.ScopeSign, MaxNoBody, s.nodeGateway(g)},
			route{http.MethodPost, nodeGatewayPath(g.Info().Slug), pending.ScopeSign, maxNodeGatewayBody, s.nodeGateway(g)})
	}
	return rts
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
// answers 500 with the error body), authentication, the route's scope, the
// key's rate limit, the route's body cap, metrics and logging.
func (s *Server) wrap(rt route) http.Handler {
	name := rt.method + " " + rt.path
	// A route whose path holds {apiKey} (Tatum's web3 and node gateway URLs
	// carry the key) authenticates with it instead of X-API-Key.
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
			if rt.scope != public {
				s.log.InfoContext(r.Context(), "request", "route", name, "status", sw.status,
					"duration_ms", d.Milliseconds(), "api_key_id", keyID)
			}
		}()
		if rt.scope != public {
			secret := r.Header.Get("X-API-Key")
			if keyInPath {
				secret = r.PathValue(pathKeyParam)
			}
			k, err := s.admit(r, rt.scope, secret)
			keyID = k.ID
			if err != nil {
				writeError(sw, s.log, r, err)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), keyCtx{}, k))
		}
		if r.ContentLength > rt.maxBody {
			writeError(sw, s.log, r, tooLarge(rt.maxBody))
			return
		}
		r.Body = http.MaxBytesReader(sw, r.Body, rt.maxBody)
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

// afterRequestTimeout bounds the writes that record a request's done work
// once its own context has ended (outliving).
const afterRequestTimeout = 10 * time.Second

// outliving is ctx for the writes that record work already done (credits,
// a node's answer to a broadcast): they are made even when the request's
// context ended meanwhile (the client went away, or the server is stopping
// and waits for its handlers), up to afterRequestTimeout.
func outliving(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), afterRequestTimeout)
}

// charge meters credits for the calling key. A failed write is logged, not
// answered: the transaction work is already done. The write outlives the
// request's context (outliving).
func (s *Server) charge(r *http.Request, n int64) {
	k := keyFrom(r.Context())
	ctx, cancel := outliving(r.Context())
	defer cancel()
	if err := s.store.AddCredits(ctx, k.ID, n); err != nil {
		s.log.ErrorContext(r.Context(), "metering credits failed", "api_key_id", k.ID, "credits", n, "err", err)
		return
	}
	s.metrics.credits.WithLabelValues(k.ID).Add(float64(n))
}
