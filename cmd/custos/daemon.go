package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/secret"
	"github.com/custoskms/custos/internal/walletstore"
)

func init() { register(newDaemonCmd) }

// defaultAPIURL is where `custos serve` listens by default.
const defaultAPIURL = "http://127.0.0.1:8700"

// openStore opens the wallet store with the password from the source the
// flags choose (CUSTOS_PASSWORD, --password-file, a secret manager, or a prompt
// on in), as the key-management commands do.
func (f *passwordFlags) openStore(ctx context.Context, a *app, in io.Reader) (*walletstore.Store, error) {
	var p *secret.Prompter
	if in != nil {
		p = secret.NewPrompter(in, a.stderr)
	}
	opts, err := f.options(p)
	if err != nil {
		return nil, err
	}
	pw, err := opts.Password(ctx, false)
	if err != nil {
		return nil, err
	}
	defer secret.Zero(pw)
	return walletstore.Open(ctx, a.walletPath, pw, walletstore.Options{})
}

// chainIDFlags collects --chain-id CODE[:testnet|:mainnet]=ID values.
type chainIDFlags []string

// extraChainIDs returns the ids configured for one network, per chain code. A
// value without a network suffix applies to both.
func (f chainIDFlags) extraChainIDs(testnet bool) (map[string][]uint64, error) {
	out := map[string][]uint64{}
	for _, v := range f {
		k, idStr, ok := strings.Cut(v, "=")
		code, netName, hasNet := strings.Cut(k, ":")
		id, err := strconv.ParseUint(strings.TrimSpace(idStr), 10, 64)
		if !ok || err != nil || id == 0 {
			return nil, fmt.Errorf("--chain-id %q: want CODE[:testnet|:mainnet]=ID, e.g. ETH:testnet=1337", v)
		}
		c, err := chains.Lookup(strings.TrimSpace(code))
		if err != nil {
			return nil, fmt.Errorf("--chain-id %q: %w", v, err)
		}
		if hasNet {
			switch strings.ToLower(netName) {
			case "testnet":
				if !testnet {
					continue
				}
			case "mainnet":
				if testnet {
					continue
				}
			default:
				return nil, fmt.Errorf("--chain-id %q: network must be testnet or mainnet", v)
			}
		}
		out[c.Info().Code] = append(out[c.Info().Code], id)
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

type daemonFlags struct {
	period           int
	chains           string
	externalURL      string
	externalMethod   string
	approvalTimeout  time.Duration
	approvalSecretFn string
	runOnce          bool
	wallets          string
	transactionIDs   string
	apiURL           string
	ledger           string
	metricsListen    string
	concurrency      int
	chunkSize        int
	chainIDs         []string
	signerID         string
	lease            int
	claimLimit       int
	password         passwordFlags
}

func newDaemonCmd(a *app) *cobra.Command {
	var f daemonFlags
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the signer: fetch pending transactions, ask approval, sign, submit",
		Long: `Runs the signer daemon. Each period, for each chain of --chain, it asks the API
for the pending transactions of the wallets in the wallet store (of the --testnet
network), asks the approval service when --externalUrl is set, signs, records the
signed transaction in a local ledger and submits it.

Environment: CUSTOS_API_KEY (or TATUM_API_KEY), CUSTOS_API_URL (or TATUM_API_URL),
CUSTOS_PASSWORD (or TATUM_KMS_PASSWORD), CUSTOS_APPROVAL_SECRET (the HMAC key of
approval requests; required with --externalUrl).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDaemon(cmd.Context(), a, &f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.period, "period", 5, "seconds between runs")
	fl.StringVar(&f.chains, "chain", "", "chains to sign for, comma-separated (e.g. BTC,ETH)")
	fl.StringVar(&f.externalURL, "externalUrl", "", "approval service: {url}/{id} must answer 2xx before a transaction is signed")
	fl.StringVar(&f.externalMethod, "externalUrlMethod", "GET", "approval request method: GET, or POST with the transaction JSON")
	fl.DurationVar(&f.approvalTimeout, "externalUrlTimeout", 10*time.Second, "approval request timeout (a timeout means not approved)")
	fl.StringVar(&f.approvalSecretFn, "approval-secret-file", "", "read the approval HMAC secret from this file instead of CUSTOS_APPROVAL_SECRET")
	fl.BoolVar(&f.runOnce, "runOnce", false, "run once and exit")
	fl.StringVar(&f.wallets, "wallets", "", "only these signature IDs, comma-separated")
	fl.StringVar(&f.transactionIDs, "transactionIds", "", "only these pending transaction ids, comma-separated")
	fl.StringVar(&f.apiURL, "api-url", "", "pending-transaction API URL (env CUSTOS_API_URL; default "+defaultAPIURL+")")
	fl.StringVar(&f.ledger, "ledger", "", "ledger of signed transactions (default: daemon-ledger.db beside the wallet file)")
	fl.StringVar(&f.metricsListen, "metrics-listen", "", "serve Prometheus metrics on this address (e.g. 127.0.0.1:9700)")
	fl.IntVar(&f.concurrency, "concurrency", 0, "transactions in flight per chain (default 4 × CPUs)")
	fl.IntVar(&f.chunkSize, "chunk-size", 10000, "signature IDs per pending request")
	fl.StringArrayVar(&f.chainIDs, "chain-id", nil, "extra accepted chain id, CODE[:testnet|:mainnet]=ID (repeatable), e.g. ETH:testnet=1337")
	fl.StringVar(&f.signerID, "signer-id", "", "this daemon's id in its leases (env CUSTOS_SIGNER_ID; default: random per process)")
	fl.IntVar(&f.claimLimit, "claim-limit", 0, "with a lease, the most transactions one claim takes, oldest first, so several daemons share the work (default max(256, 16 × concurrency))")
	fl.IntVar(&f.lease, "lease", 60, "seconds the API reserves fetched transactions for this daemon, so daemons sharing wallets never sign one at once (0: no lease, Tatum's behaviour)")
	f.password.add(cmd)
	return cmd
}

func runDaemon(ctx context.Context, a *app, f *daemonFlags) error {
	log := slog.New(slog.NewJSONHandler(a.stderr, nil))
	codes := splitList(f.chains)
	if len(codes) == 0 {
		return errors.New("--chain is required (e.g. --chain ETH,BTC)")
	}
	if f.period <= 0 {
		return errors.New("--period must be at least 1 second")
	}
	apiKey, _ := config.Getenv("CUSTOS_API_KEY")
	if apiKey == "" {
		return errors.New("CUSTOS_API_KEY (or TATUM_API_KEY) is not set")
	}
	apiURL := f.apiURL
	if apiURL == "" {
		apiURL, _ = config.Getenv("CUSTOS_API_URL")
	}
	if apiURL == "" {
		apiURL = defaultAPIURL
	}
	client, err := daemon.NewClient(apiURL, apiKey)
	if err != nil {
		return err
	}
	client.Logger = log
	// The API's bounds: a daemon refuses at start what every claim would be refused for.
	if f.lease < 0 || f.lease > api.MaxLeaseSeconds {
		return fmt.Errorf("--lease must be 0 to %d seconds", api.MaxLeaseSeconds)
	}
	if f.claimLimit < 0 || f.claimLimit > api.MaxClaimLimit {
		return fmt.Errorf("--claim-limit must be 0 (default) to %d", api.MaxClaimLimit)
	}
	if f.lease > 0 {
		signer, err := signerID(f.signerID)
		if err != nil {
			return err
		}
		client.SignerID, client.LeaseSeconds = signer, f.lease
		log.Info("claiming with leases", "signer_id", signer, "lease_seconds", f.lease)
	}
	extra, err := chainIDFlags(f.chainIDs).extraChainIDs(a.testnet)
	if err != nil {
		return err
	}
	cfg := daemon.Config{
		Chains:         codes,
		Testnet:        a.testnet,
		Period:         time.Duration(f.period) * time.Second,
		Wallets:        splitList(f.wallets),
		TransactionIDs: splitList(f.transactionIDs),
		ExtraChainIDs:  extra,
		LedgerPath:     f.ledger,
		Concurrency:    f.concurrency,
		ChunkSize:      f.chunkSize,
		Lease:          time.Duration(f.lease) * time.Second,
		ClaimLimit:     f.claimLimit,
		Logger:         log,
	}
	if cfg.LedgerPath == "" {
		cfg.LedgerPath = filepath.Join(filepath.Dir(a.walletPath), "daemon-ledger.db")
	}
	if f.externalURL != "" {
		sec, err := approvalSecret(f.approvalSecretFn)
		if err != nil {
			return err
		}
		ap, err := daemon.NewApprover(f.externalURL, f.externalMethod, sec, f.approvalTimeout)
		secret.Zero(sec)
		if err != nil {
			return err
		}
		cfg.Approval = ap
	}
	store, err := f.password.openStore(ctx, a, a.stdin)
	if err != nil {
		return err
	}
	defer store.Close()
	d, err := daemon.New(cfg, client, daemon.NewStoreKeys(store))
	if err != nil {
		return err
	}
	defer d.Close()
	if f.metricsListen != "" {
		addr, err := d.StartMetrics(ctx, f.metricsListen)
		if err != nil {
			return err
		}
		log.Info("metrics", "listen", addr.String())
	}
	if f.runOnce {
		sum, err := d.RunOnce(ctx)
		if err != nil {
			return err
		}
		if err := printJSON(a.stdout, sum); err != nil {
			return err
		}
		if sum.Failed > 0 {
			return exitError{fmt.Errorf("%d transaction(s) failed (reported to the API)", sum.Failed), 2}
		}
		return nil
	}
	return d.Run(ctx)
}

// exitError carries a process exit code other than 1.
type exitError struct {
	error
	code int
}

func (e exitError) ExitCode() int { return e.code }

func approvalSecret(file string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("approval secret file: %w", err)
		}
		b = []byte(strings.TrimRight(string(b), "\r\n"))
		if len(b) == 0 {
			return nil, errors.New("approval secret file is empty")
		}
		return b, nil
	}
	if v, ok := config.Getenv("CUSTOS_APPROVAL_SECRET"); ok && v != "" {
		return []byte(v), nil
	}
	return nil, errors.New("--externalUrl needs CUSTOS_APPROVAL_SECRET (or --approval-secret-file): approval requests are HMAC-signed")
}

// signerID is the --signer-id, CUSTOS_SIGNER_ID, or a random id for this
// process: two daemons must never share one while both run.
func signerID(flag string) (string, error) {
	id := flag
	if id == "" {
		id, _ = config.Getenv("CUSTOS_SIGNER_ID")
	}
	if id == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		host, _ := os.Hostname()
		id = "daemon-" + hex.EncodeToString(b[:])
		if h := signerSafe(host, 40); h != "" {
			id = h + "-" + hex.EncodeToString(b[:])
		}
	}
	if len(id) > 64 || signerSafe(id, 64) != id {
		return "", errors.New("--signer-id: must be 1 to 64 characters of [0-9A-Za-z._:-]")
	}
	return id, nil
}

// signerSafe keeps the characters a signer id may hold, at most limit of them.
func signerSafe(s string, limit int) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(out) < limit; i++ {
		c := s[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.' || c == ':' {
			out = append(out, c)
		}
	}
	return string(out)
}
