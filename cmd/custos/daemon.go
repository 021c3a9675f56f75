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

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/harden"
	"github.com/custoskms/custos/internal/secret"
	"github.com/custoskms/custos/internal/walletstore"
)

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
	opts, err := f.options(a, p)
	if err != nil {
		return nil, err
	}
	pw, err := opts.Password(ctx, false)
	if err != nil {
		return nil, err
	}
	defer secret.Zero(pw)
	return walletstore.Open(ctx, a.walletPath, pw, walletstore.Options{Logger: newLogger(a.stderr)})
}

// chainIDFlags collects --chain-id CODE[:testnet|:mainnet]=ID values.
type chainIDFlags []string

// add declares --chain-id, which serve, daemon and sign share.
func (f *chainIDFlags) add(b *config.Binder) {
	config.StringArray(b, (*[]string)(f), config.Setting[[]string]{Flag: "chain-id",
		Help: "extra accepted EVM chain id, CODE[:testnet|:mainnet]=ID (repeatable), e.g. ETH:testnet=1337 for a private dev chain"})
}

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

// daemonConfig is the configuration of `custos daemon`. Tatum KMS's flag
// spellings (--externalUrl, --runOnce, --transactionIds…) stay as aliases.
type daemonConfig struct {
	period             time.Duration
	chains             string
	externalURL        string
	externalMethod     string
	approvalProtocol   string
	approvalMaxAge     time.Duration
	approvalTimeout    time.Duration
	approvalSecretFile string
	approvalSecret     string
	runOnce            bool
	wallets            string
	transactionIDs     string
	apiURL             string
	apiKey             string
	ledger             string
	metricsListen      string
	concurrency        int
	chunkSize          int
	chainIDs           chainIDFlags
	signerID           string
	lease              time.Duration
	claimLimit         int
	policyFile         string
	broadcastBatch     bool
	password           passwordFlags
	profile            profileFlags
}

func (c *daemonConfig) add(b *config.Binder) {
	config.Duration(b, &c.period, config.Setting[time.Duration]{Flag: "period", Env: []string{"CUSTOS_PERIOD"},
		Default: 5 * time.Second, Help: "time between runs (plain numbers are seconds)", Check: positive})
	config.String(b, &c.chains, config.Setting[string]{Flag: "chain", Env: []string{"CUSTOS_CHAIN"},
		Help: "chains to sign for, comma-separated (e.g. BTC,ETH)", Check: func(v string) error {
			if len(splitList(v)) == 0 {
				return errors.New("required, e.g. --chain ETH,BTC")
			}
			return nil
		}})
	config.String(b, &c.externalURL, config.Setting[string]{Flag: "external-url", Aliases: []string{"externalUrl"},
		Env: []string{"CUSTOS_EXTERNAL_URL"}, Help: "approval service (https, or http to loopback): {url}/{id} must approve before a transaction is signed"})
	config.String(b, &c.approvalProtocol, config.Setting[string]{Flag: "approval-protocol", Env: []string{"CUSTOS_APPROVAL_PROTOCOL"},
		Default: string(daemon.ProtocolV2), Help: "approval protocol: v2 (signed request with the bytes to sign and their intent, signed answer) or v1 (Tatum's: any 2xx approves)",
		Check: func(v string) error {
			if v != string(daemon.ProtocolV1) && v != string(daemon.ProtocolV2) {
				return errors.New("must be v1 or v2")
			}
			return nil
		}})
	config.Duration(b, &c.approvalMaxAge, config.Setting[time.Duration]{Flag: "approval-max-age", Env: []string{"CUSTOS_APPROVAL_MAX_AGE"},
		Default: approval.DefaultMaxAge, Help: "v2: how far an approval answer's timestamp may be from this clock", Check: positive})
	config.String(b, &c.externalMethod, config.Setting[string]{Flag: "external-url-method", Aliases: []string{"externalUrlMethod"},
		Env: []string{"CUSTOS_EXTERNAL_URL_METHOD"}, Default: "GET", Help: "v1 approval request method: GET, or POST with the transaction JSON (v2 always posts)"})
	config.Duration(b, &c.approvalTimeout, config.Setting[time.Duration]{Flag: "external-url-timeout", Aliases: []string{"externalUrlTimeout"},
		Env: []string{"CUSTOS_EXTERNAL_URL_TIMEOUT"}, Default: 10 * time.Second,
		Help: "approval request timeout (a timeout means not approved)", Check: positive})
	config.String(b, &c.approvalSecretFile, config.Setting[string]{Flag: "approval-secret-file",
		Help: "read the approval HMAC secret from this file instead of CUSTOS_APPROVAL_SECRET"})
	config.String(b, &c.approvalSecret, config.Setting[string]{Env: []string{"CUSTOS_APPROVAL_SECRET"}, Secret: true})
	config.Bool(b, &c.runOnce, config.Setting[bool]{Flag: "run-once", Aliases: []string{"runOnce"}, Help: "run once and exit"})
	config.String(b, &c.wallets, config.Setting[string]{Flag: "wallets", Help: "only these signature IDs, comma-separated"})
	config.String(b, &c.transactionIDs, config.Setting[string]{Flag: "transaction-ids", Aliases: []string{"transactionIds"},
		Help: "only these pending transaction ids, comma-separated"})
	config.String(b, &c.apiURL, config.Setting[string]{Flag: "api-url", Env: []string{"CUSTOS_API_URL", "TATUM_API_URL"},
		Default: defaultAPIURL, Help: "pending-transaction API URL"})
	config.String(b, &c.apiKey, config.Setting[string]{Env: []string{"CUSTOS_API_KEY", "TATUM_API_KEY"}, Secret: true, Check: func(v string) error {
		if v == "" {
			return errors.New("not set")
		}
		return nil
	}})
	config.String(b, &c.ledger, config.Setting[string]{Flag: "ledger", Env: []string{"CUSTOS_LEDGER"},
		Help: "ledger of signed transactions (unset: daemon-ledger.db beside the wallet file)"})
	config.String(b, &c.metricsListen, config.Setting[string]{Flag: "metrics-listen", Env: []string{"CUSTOS_METRICS_LISTEN"},
		Help: "serve Prometheus metrics on this address (e.g. 127.0.0.1:9700)"})
	config.Int(b, &c.concurrency, config.Setting[int]{Flag: "concurrency", Env: []string{"CUSTOS_CONCURRENCY"},
		Default: daemon.DefaultConcurrency, Help: "transactions in flight per chain (at most 64 when the API cannot renew leases; signatures by keys held outside the process: at most 64 at once)", Check: atLeast(1)})
	config.Int(b, &c.chunkSize, config.Setting[int]{Flag: "chunk-size", Env: []string{"CUSTOS_CHUNK_SIZE"},
		Default: 10000, Help: "signature IDs per pending request", Check: atLeast(1)})
	c.chainIDs.add(b)
	config.String(b, &c.signerID, config.Setting[string]{Flag: "signer-id", Env: []string{"CUSTOS_SIGNER_ID"},
		Help: "this daemon's id in its leases (unset: random per process)"})
	config.Int(b, &c.claimLimit, config.Setting[int]{Flag: "claim-limit", Env: []string{"CUSTOS_CLAIM_LIMIT"},
		Help: "with a lease, the most transactions one claim takes, oldest first, so several daemons share the work (0: max(256, 16 × concurrency))",
		// The API's bounds: a daemon refuses at start what every claim would be refused for.
		Check: func(n int) error {
			if n < 0 || n > api.MaxClaimLimit {
				return fmt.Errorf("must be 0 (the default) to %d", api.MaxClaimLimit)
			}
			return nil
		}})
	config.Duration(b, &c.lease, config.Setting[time.Duration]{Flag: "lease", Env: []string{"CUSTOS_LEASE"}, Default: time.Minute,
		Help: "how long the API reserves fetched transactions for this daemon, so daemons sharing wallets never sign one at once (0: no lease, Tatum's behaviour)",
		Check: func(d time.Duration) error {
			if d < 0 || d > api.MaxLeaseSeconds*time.Second || d%time.Second != 0 {
				return fmt.Errorf("must be whole seconds from 0 to %d", api.MaxLeaseSeconds)
			}
			return nil
		}})
	config.String(b, &c.policyFile, config.Setting[string]{Flag: "policy", Env: []string{"CUSTOS_POLICY"},
		Help: "signing policy file (docs/policy.md): a transaction no rule allows is refused before approval"})
	config.Bool(b, &c.broadcastBatch, config.Setting[bool]{Flag: "broadcast-batch", Env: []string{"CUSTOS_BROADCAST_BATCH"}, Default: true,
		Help: "send concurrent broadcasts together (POST /v3/{slug}/broadcast/batch; an API without that route gets one request per transaction, as with false)"})
	c.password.add(b)
	c.profile.add(b)
}

func positive(d time.Duration) error {
	if d <= 0 {
		return errors.New("must be positive")
	}
	return nil
}

func atLeast(min int) func(int) error {
	return func(n int) error {
		if n < min {
			return fmt.Errorf("must be at least %d", min)
		}
		return nil
	}
}

func newDaemonCmd(a *app) *cobra.Command {
	var c daemonConfig
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the signer: fetch pending transactions, ask approval, sign, submit",
		Long: `Runs the signer daemon. Each period, for each chain of --chain, it asks the API
for the pending transactions of the wallets in the wallet store (of the --testnet
network), asks the approval service when --external-url is set (protocol v2 by
default, Tatum's v1 with --approval-protocol v1), signs, records the signed
transaction in a local ledger and submits it. Tatum KMS's spellings
(--externalUrl, --externalUrlMethod, --runOnce, --transactionIds) work too.

A store split with 'custos seal split' needs no password: the daemon starts sealed,
signs nothing, and waits for enough holders to run 'custos unseal' on this machine.

Environment: CUSTOS_API_KEY (or TATUM_API_KEY), CUSTOS_PASSWORD (or TATUM_KMS_PASSWORD),
CUSTOS_APPROVAL_SECRET (the HMAC key of approval requests; required with --external-url),
and the variables named beside each flag.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDaemon(cmd.Context(), a, &c) },
	}
	c.add(a.flags(cmd))
	return cmd
}

func runDaemon(ctx context.Context, a *app, c *daemonConfig) error {
	log := slog.New(slog.NewJSONHandler(a.stderr, nil))
	stopProfile, err := c.profile.start()
	if err != nil {
		return err
	}
	defer stopProfile()
	client, err := c.client(log)
	if err != nil {
		return err
	}
	cfg, err := c.daemon(a, log)
	if err != nil {
		return err
	}
	split := a.splitInfo(ctx)
	var keys daemon.Keys
	if split == nil {
		store, err := c.password.openStore(ctx, a, a.stdin)
		if err != nil {
			return err
		}
		defer store.Close()
		keys = daemon.NewStoreKeys(store)
	}
	al, err := c.openAudit(ctx, a, cfg, split != nil)
	if err != nil {
		return err
	}
	defer al.Close()
	cfg.Audit = al
	var unsealed <-chan struct{}
	if split != nil {
		sk, opened, stop, err := sealedKeys(ctx, a, log, al)
		if err != nil {
			return err
		}
		defer stop()
		keys, unsealed = sk, opened
	}
	d, err := daemon.New(cfg, client, keys)
	if err != nil {
		return err
	}
	defer d.Close()
	if unsealed != nil && c.runOnce {
		// One run of a sealed daemon waits for its holders, rather than
		// returning at once with nothing signed.
		select {
		case <-unsealed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if c.metricsListen != "" {
		srv, err := startMetrics(c.metricsListen, d.MetricsHandler(), log)
		if err != nil {
			return err
		}
		defer srv.stop(ctx)
	}
	if c.runOnce {
		return runOnce(ctx, a, d)
	}
	return d.Run(ctx)
}

// client is the API client: with a lease, it claims what it fetches.
func (c *daemonConfig) client(log *slog.Logger) (*daemon.Client, error) {
	client, err := daemon.NewClient(c.apiURL, c.apiKey)
	if err != nil {
		return nil, err
	}
	client.Logger = log
	client.SingleBroadcasts = !c.broadcastBatch
	if client.Plaintext() {
		log.Warn("the API is reached over http:// on another host: the API key and the transactions cross the network in clear; use https")
	}
	if c.lease > 0 {
		signer, err := signerID(c.signerID)
		if err != nil {
			return nil, err
		}
		client.SignerID, client.LeaseSeconds = signer, int(c.lease/time.Second)
		log.Info("claiming with leases", "signer_id", signer, "lease_seconds", client.LeaseSeconds)
	}
	return client, nil
}

// daemon is the signer's configuration, its approver included.
func (c *daemonConfig) daemon(a *app, log *slog.Logger) (daemon.Config, error) {
	extra, err := c.chainIDs.extraChainIDs(a.testnet)
	if err != nil {
		return daemon.Config{}, err
	}
	cfg := daemon.Config{
		Chains:         splitList(c.chains),
		Testnet:        a.testnet,
		Period:         c.period,
		Wallets:        splitList(c.wallets),
		TransactionIDs: splitList(c.transactionIDs),
		ExtraChainIDs:  extra,
		LedgerPath:     c.ledger,
		Concurrency:    c.concurrency,
		ChunkSize:      c.chunkSize,
		Lease:          c.lease,
		ClaimLimit:     c.claimLimit,
		Logger:         log,
	}
	if cfg.LedgerPath == "" {
		cfg.LedgerPath = filepath.Join(filepath.Dir(a.walletPath), "daemon-ledger.db")
	}
	if c.externalURL != "" {
		sec, err := approvalSecret(c.approvalSecretFile, c.approvalSecret)
		if err != nil {
			return daemon.Config{}, err
		}
		ap, err := daemon.NewApprover(daemon.ApproverConfig{URL: c.externalURL, Protocol: daemon.Protocol(c.approvalProtocol),
			Method: c.externalMethod, Secret: sec, Timeout: c.approvalTimeout, MaxAge: c.approvalMaxAge})
		secret.Zero(sec)
		if err != nil {
			return daemon.Config{}, err
		}
		cfg.Approval = ap
	}
	if c.policyFile != "" {
		if cfg.Policy, err = loadPolicy(c.policyFile); err != nil {
			return daemon.Config{}, err
		}
		log.Info("signing policy", "file", c.policyFile, "rules", len(cfg.Policy.Summary().Rules))
	} else if cfg.Approval == nil {
		log.Warn("no --policy and no --external-url: anything queued is signed")
	}
	return cfg, nil
}

// runOnce is --run-once: one run, its summary on stdout, exit code 2 when a
// transaction failed.
func runOnce(ctx context.Context, a *app, d *daemon.Daemon) error {
	sum, err := d.RunOnce(ctx)
	if err != nil {
		return err
	}
	if err := printJSON(a.stdout, sum); err != nil {
		return err
	}
	if sum.Failed > 0 {
		return exitError{errors.New(failedMessage(sum)), 2}
	}
	return nil
}

// failedMessage is --run-once's exit message when transactions failed: it
// says how many the API was told of, since a failure that could not be
// audited or whose report the API did not take was not.
func failedMessage(sum daemon.Summary) string {
	switch {
	case sum.Unreported == 0:
		return fmt.Sprintf("%d transaction(s) failed (reported to the API)", sum.Failed)
	case sum.Unreported >= sum.Failed:
		return fmt.Sprintf("%d transaction(s) failed, not reported to the API (the audit log could not be written, or the API did not take the report: see the log)", sum.Failed)
	}
	return fmt.Sprintf("%d transaction(s) failed, %d of them reported to the API (the others were not: the audit log could not be written, or the API did not take the report: see the log)",
		sum.Failed, sum.Failed-sum.Unreported)
}

// exitError carries a process exit code other than 1.
type exitError struct {
	error
	code int
}

func (e exitError) ExitCode() int { return e.code }

// approvalSecret is the HMAC key of approval requests: the file's content,
// else the variable's.
func approvalSecret(file, fromEnv string) ([]byte, error) {
	if file != "" {
		if err := harden.CheckSecretFile(file); err != nil {
			return nil, fmt.Errorf("approval secret file: %w", err)
		}
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
	if fromEnv != "" {
		return []byte(fromEnv), nil
	}
	return nil, errors.New("--external-url needs CUSTOS_APPROVAL_SECRET (or --approval-secret-file): approval requests are HMAC-signed")
}

// signerID is the configured id, or a random one for this process: two
// daemons must never share one while both run.
func signerID(id string) (string, error) {
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

// openAudit opens the daemon's audit log (--audit-log, else audit.log beside
// the wallet file, shared with the CLI's acts) and records the start: a
// daemon that cannot write its log does not start, rather than refuse every
// transaction.
func (c *daemonConfig) openAudit(ctx context.Context, a *app, cfg daemon.Config, sealed bool) (*audit.Log, error) {
	l, err := audit.Open(a.walletAuditLog(), audit.Options{Actor: "daemon"})
	if err != nil {
		return nil, err
	}
	err = l.Append(ctx, audit.Event{Type: "daemon.started", Fields: map[string]any{
		"chains": cfg.Chains, "testnet": cfg.Testnet, "approval": cfg.Approval != nil,
		"wallets": cfg.Wallets, "transactionIds": cfg.TransactionIDs, "ledger": cfg.LedgerPath, "sealed": sealed}})
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return l, nil
}
