package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/postgres"
	"github.com/custoskms/custos/internal/pending/sqlite"
)

func init() { register(newServeCmd) }

// storeFlags are the flags `serve` and `apikey` share to find the pending store.
type storeFlags struct {
	dataDir  string
	database string
}

func (f *storeFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", defaultDataDir(), "directory of the embedded database (env CUSTOS_DATA_DIR)")
	fs.StringVar(&f.database, "database", "", "database URL: sqlite:PATH or postgres://… (default: SQLite in the data dir) (env CUSTOS_DATABASE)")
}

func defaultDataDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".custos", "data")
	}
	return filepath.Join(home, ".custos", "data")
}

// open opens the configured pending store, creating the data dir when needed.
func (f *storeFlags) open(ctx context.Context, cmd *cobra.Command) (pending.Store, error) {
	dataDir, database := f.dataDir, f.database
	if v, ok := config.Getenv("CUSTOS_DATA_DIR"); ok && v != "" && !cmd.Flags().Changed("data-dir") {
		dataDir = v
	}
	if v, ok := config.Getenv("CUSTOS_DATABASE"); ok && v != "" && !cmd.Flags().Changed("database") {
		database = v
	}
	var path string
	switch {
	case database == "":
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		path = filepath.Join(dataDir, "custos.db")
	case strings.HasPrefix(database, "sqlite:"):
		path = strings.TrimPrefix(strings.TrimPrefix(database, "sqlite:"), "//")
	case strings.HasPrefix(database, "postgres:"), strings.HasPrefix(database, "postgresql:"):
		// Several replicas may share one PostgreSQL database.
		return postgres.Open(ctx, database)
	default:
		return nil, errors.New("--database: want sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB")
	}
	if path == "" {
		return nil, errors.New("--database: empty SQLite path")
	}
	return sqlite.Open(ctx, path)
}

// newLogger logs JSON for machines and text on a terminal.
func newLogger(w io.Writer) *slog.Logger {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// Server timeouts: a pending POST of a million IDs is about 40 MB, so reads
// get a minute; writes also cover a node's broadcast answer.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 2 * time.Minute
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 30 * time.Second
)

func newServeCmd(a *app) *cobra.Command {
	var (
		sf       storeFlags
		listen   string
		nodes    []string
		chainIDs []string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the pending-transaction API",
		Long: "Run the pending-transaction API (/v3/kms…) for custodial applications and signers.\n" +
			"Chain nodes: --node CHAIN=URL, --node CHAIN:testnet=URL, or CUSTOS_NODE_<CHAIN>[_TESTNET].",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := newLogger(a.stderr)
			if v, ok := config.Getenv("CUSTOS_LISTEN"); ok && v != "" && !cmd.Flags().Changed("listen") {
				listen = v
			}
			specs, err := broadcast.NodesFromEnv(os.Environ(), chains.Codes())
			if err != nil {
				return err
			}
			for _, n := range nodes {
				s, err := broadcast.ParseNode(n)
				if err != nil {
					return fmt.Errorf("--node: %w", err)
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
			dialed, err := broadcast.Dial(usable, chains.Dialer)
			if err != nil {
				return err
			}
			extraIDs, err := serveChainIDs(chainIDs)
			if err != nil {
				return err
			}
			store, err := sf.open(ctx, cmd)
			if err != nil {
				return err
			}
			defer store.Close()

			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			srv := &http.Server{
				Handler:           api.New(api.Config{Store: store, Nodes: dialed, Logger: log, ExtraChainIDs: extraIDs}),
				ReadHeaderTimeout: readHeaderTimeout,
				ReadTimeout:       readTimeout,
				WriteTimeout:      writeTimeout,
				IdleTimeout:       idleTimeout,
				ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
			}
			log.Info("custos serve listening", "addr", ln.Addr().String(), "nodes", dialed.Configured())
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return fmt.Errorf("serve: %w", err)
			case <-ctx.Done():
			}
			log.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			log.Info("stopped")
			return nil
		},
	}
	sf.add(cmd.Flags())
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8700", "address to listen on (env CUSTOS_LISTEN)")
	cmd.Flags().StringArrayVar(&nodes, "node", nil, "chain node, CHAIN=URL or CHAIN:testnet=URL (repeatable)")
	cmd.Flags().StringArrayVar(&chainIDs, "chain-id", nil, "extra accepted EVM chain id, CODE[:testnet|:mainnet]=ID (repeatable), e.g. ETH:testnet=1337 for a private dev chain")
	return cmd
}

// serveChainIDs reads the extra EVM chain ids (a private or dev chain) the
// API accepts, per network, as `custos dev` passes its dev chain's.
func serveChainIDs(flags []string) (map[bool]map[string][]uint64, error) {
	out := map[bool]map[string][]uint64{}
	for _, testnet := range []bool{false, true} {
		ids, err := chainIDFlags(flags).extraChainIDs(testnet)
		if err != nil {
			return nil, err
		}
		// Only chains with network ids (EVM) take extra ones.
		type withChainIDs interface {
			ChainIDs(bool, ...uint64) []uint64
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
