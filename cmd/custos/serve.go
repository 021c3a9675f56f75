package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/postgres"
	"github.com/custoskms/custos/internal/pending/sqlite"
	"github.com/custoskms/custos/internal/tracker"
	"github.com/custoskms/custos/internal/webhook"
)

// storeFlags are the settings `serve` and `apikey` share to find the pending store.
type storeFlags struct {
	dataDir  string
	database string
}

func (f *storeFlags) add(b *config.Binder) {
	config.String(b, &f.dataDir, config.Setting[string]{Flag: "data-dir", Env: []string{"CUSTOS_DATA_DIR"},
		Default: defaultDataDir(), Help: "directory of the embedded database"})
	config.String(b, &f.database, config.Setting[string]{Flag: "database", Env: []string{"CUSTOS_DATABASE"}, Secret: true,
		Help: "database URL: sqlite:PATH or postgres://… (unset: SQLite in the data dir)"})
}

func defaultDataDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".custos", "data")
	}
	return filepath.Join(home, ".custos", "data")
}

// open opens the configured pending store, creating the data dir when needed.
func (f *storeFlags) open(ctx context.Context) (pending.Store, error) {
	if f.database == "" {
		if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		return sqlite.Open(ctx, filepath.Join(f.dataDir, "custos.db"))
	}
	path, pg, err := parseDatabase(f.database)
	if err != nil {
		return nil, err
	}
	if pg {
		// Several replicas may share one PostgreSQL database.
		return postgres.Open(ctx, f.database)
	}
	return sqlite.Open(ctx, path)
}

// parseDatabase reads a --database URL: the SQLite file it names, or pg for PostgreSQL.
func parseDatabase(database string) (sqlitePath string, pg bool, err error) {
	switch {
	case strings.HasPrefix(database, "sqlite:"):
		sqlitePath = strings.TrimPrefix(strings.TrimPrefix(database, "sqlite:"), "//")
		if sqlitePath == "" {
			return "", false, errors.New("--database: empty SQLite path")
		}
		return sqlitePath, false, nil
	case strings.HasPrefix(database, "postgres:"), strings.HasPrefix(database, "postgresql:"):
		return "", true, nil
	}
	return "", false, errors.New("--database: want sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB")
}

// newLogger logs JSON for machines and text on a terminal.
func newLogger(w io.Writer) *slog.Logger {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// serveConfig is the configuration of `custos serve`.
type serveConfig struct {
	store         storeFlags
	listen        string
	metricsListen string
	rateLimit     int
	rateBurst     int
	nodes         []string
	chainIDs      chainIDFlags
	gasCaps       gasCapFlags
	webhooks      webhookFlags
	confirmations confirmationFlags
	profile       profileFlags
	utxoSources   utxoSourceFlags
}

func (c *serveConfig) add(b *config.Binder) {
	c.store.add(b)
	config.String(b, &c.listen, config.Setting[string]{Flag: "listen", Env: []string{"CUSTOS_LISTEN"},
		Default: defaultListen, Help: "address to listen on"})
	config.String(b, &c.metricsListen, config.Setting[string]{Flag: "metrics-listen", Env: []string{"CUSTOS_METRICS_LISTEN"},
		Help: "also serve /metrics without an API key on this address, for a Prometheus scraper (unset: only on --listen, with an admin-scope key)"})
	nonNegative := func(n int) error {
		if n < 0 {
			return errors.New("must not be negative")
		}
		return nil
	}
	config.Int(b, &c.rateLimit, config.Setting[int]{Flag: "rate-limit", Env: []string{"CUSTOS_RATE_LIMIT"}, Default: api.DefaultRateLimit,
		Check: nonNegative, Help: "requests per second each API key may make, counted per replica (0: no limit)"})
	config.Int(b, &c.rateBurst, config.Setting[int]{Flag: "rate-burst", Env: []string{"CUSTOS_RATE_BURST"}, Default: api.DefaultRateBurst,
		Check: nonNegative, Help: "requests an API key may make at once above its rate"})
	config.StringArray(b, &c.nodes, config.Setting[[]string]{Flag: "node",
		Help: "chain node, CHAIN=URL or CHAIN:testnet=URL (repeatable)"})
	c.chainIDs.add(b)
	c.gasCaps.add(b)
	c.webhooks.add(b)
	c.confirmations.add(b)
	c.profile.add(b)
	c.utxoSources.add(b)
}

// defaultListen is where the API listens; defaultAPIURL is the daemon's
// default for it.
const defaultListen = "127.0.0.1:8700"

func newServeCmd(a *app) *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the pending-transaction API",
		Long: "Run the pending-transaction API (/v3/kms…) for custodial applications and signers.\n" +
			"Chain nodes: --node CHAIN=URL, --node CHAIN:testnet=URL, or CUSTOS_NODE_<CHAIN>[_TESTNET].",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), a, &c) },
	}
	c.add(a.flags(cmd))
	return cmd
}

func runServe(ctx context.Context, a *app, c *serveConfig) error {
	log := newLogger(a.stderr)
	stopProfile, err := c.profile.start()
	if err != nil {
		return err
	}
	defer stopProfile()
	dialed, err := c.dialNodes(a.env, log)
	if err != nil {
		return err
	}
	extraIDs, err := serveChainIDs(c.chainIDs)
	if err != nil {
		return err
	}
	gasCaps, err := c.gasCaps.ceilings()
	if err != nil {
		return err
	}
	depths, err := c.confirmations.depths()
	if err != nil {
		return err
	}
	store, err := c.store.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	guard := webhook.Guard{AllowPrivate: c.webhooks.allowPrivate}
	h := api.New(api.Config{Store: store, Nodes: dialed, Logger: log, ExtraChainIDs: extraIDs,
		MaxGasPrice: gasCaps, RateLimit: float64(c.rateLimit), RateBurst: c.rateBurst, Webhooks: guard})
	wcfg := c.webhooks.config(guard)
	wcfg.Registry = h.Registry()
	stopWebhooks := startWebhooks(ctx, wcfg, store, log)
	defer stopWebhooks() // before the store closes
	stopTracker := startTracker(ctx, tracker.Config{Store: store, Nodes: dialed, Depth: depths, Registry: h.Registry()}, log)
	defer stopTracker() // before the store closes
	srv, err := startHTTP(c.listen, h, log)
	if err != nil {
		return err
	}
	log.Info("custos serve listening", "addr", srv.addr.String(), "nodes", dialed.Configured(),
		"rate_limit", c.rateLimit, "rate_burst", c.rateBurst)
	if c.metricsListen != "" {
		msrv, err := startMetrics(c.metricsListen, h.MetricsHandler(), log)
		if err != nil {
			return err
		}
		defer msrv.stop(ctx)
	}
	select {
	case err := <-srv.failed():
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if err := srv.stop(ctx); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// dialNodes connects the nodes of the environment (CUSTOS_NODE_<CHAIN>) and
// of --node; nodes of chains this build cannot reach are logged and skipped.
func (c *serveConfig) dialNodes(env config.Source, log *slog.Logger) (*broadcast.Nodes, error) {
	specs, err := broadcast.NodesFromEnv(env.Environ(os.Environ()), chains.Codes())
	if err != nil {
		return nil, err
	}
	for _, n := range c.nodes {
		s, err := broadcast.ParseNode(n)
		if err != nil {
			return nil, fmt.Errorf("--node: %w", err)
		}
		specs = append(specs, s)
	}
	var usable []broadcast.NodeSpec
	for _, s := range specs {
		if _, ok := chains.Dialer(s.Chain); !ok {
			log.Warn("node ignored: this build has no node client for the chain", "node", s.String())
			continue
		}
		usable = append(usable, s)
	}
	sources, err := c.utxoSources.sources(env.Environ(os.Environ()))
	if err != nil {
		return nil, err
	}
	nodes, err := broadcast.Dial(usable, chains.Dialer)
	if err != nil {
		return nil, err
	}
	if err := applyUTXOSources(nodes, sources); err != nil {
		return nil, err
	}
	return nodes, nil
}

// serveChainIDs reads the extra EVM chain ids (a private or dev chain) the
// API accepts, per network, as `custos dev` passes its dev chain's.
func serveChainIDs(flags chainIDFlags) (map[bool]map[string][]uint64, error) {
	// Only chains with network ids (EVM) take extra ones.
	type withChainIDs interface {
		ChainIDs(bool, ...uint64) []uint64
	}
	out := map[bool]map[string][]uint64{}
	for _, testnet := range []bool{false, true} {
		ids, err := flags.extraChainIDs(testnet)
		if err != nil {
			return nil, err
		}
		for code := range ids {
			c, err := chains.Lookup(code)
			if err != nil {
				return nil, fmt.Errorf("--chain-id: %w", err)
			}
			if _, ok := c.(withChainIDs); !ok {
				return nil, fmt.Errorf("--chain-id: %s has no chain ids to extend", code)
			}
		}
		out[testnet] = ids
	}
	return out, nil
}
