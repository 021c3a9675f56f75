package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/approver"
	approverpg "github.com/custoskms/custos/internal/approver/postgres"
	"github.com/custoskms/custos/internal/approver/sqlite"
	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/httpguard"
	"github.com/custoskms/custos/internal/tlsreload"
)

// approverStore are the settings every `approver` command shares: its own
// database, apart from the pending store.
type approverStore struct {
	dataDir  string
	database string
}

func (f *approverStore) add(b *config.Binder) {
	config.String(b, &f.dataDir, config.Setting[string]{Flag: "data-dir", Env: []string{"CUSTOS_APPROVER_DATA_DIR"},
		Default: defaultApproverDir(), Help: "directory of the approver's database and audit log"})
	config.String(b, &f.database, config.Setting[string]{Flag: "database", Env: []string{"CUSTOS_APPROVER_DATABASE"}, Secret: true,
		Help: "database URL: sqlite:PATH or postgres://… (unset: SQLite in the data dir)"})
}

func defaultApproverDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".custos", "approver")
	}
	return filepath.Join(home, ".custos", "approver")
}

func (f *approverStore) open(ctx context.Context) (approver.Store, error) {
	var path string
	switch db := f.database; {
	case db == "":
		if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		path = filepath.Join(f.dataDir, "approver.db")
	case strings.HasPrefix(db, "sqlite:"):
		path = strings.TrimPrefix(strings.TrimPrefix(db, "sqlite:"), "//")
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return approverpg.Open(ctx, db)
	default:
		return nil, errors.New("--database: want sqlite:PATH or postgres://…")
	}
	if path == "" {
		return nil, errors.New("--database: empty SQLite path")
	}
	return sqlite.Open(ctx, path)
}

// with runs fn on the opened store and closes it.
func (f *approverStore) with(cmd *cobra.Command, fn func(approver.Store) error) error {
	store, err := f.open(cmd.Context())
	if err != nil {
		return err
	}
	defer store.Close()
	return fn(store)
}

// auditLog is --audit-log, else audit.log in the approver's data dir.
func (f *approverStore) auditLog(a *app) string {
	if a.auditLog != "" {
		return a.auditLog
	}
	return filepath.Join(f.dataDir, "audit.log")
}

// approverServeConfig is the configuration of `custos approver serve`.
type approverServeConfig struct {
	listen             string
	origin             string
	rules              string
	approvalSecretFile string
	approvalSecret     string
	maxAge             time.Duration
	idleTimeout        time.Duration
	signinLimit        int
	signinBurst        int
	tlsCert, tlsKey    string
	profile            profileFlags
}

func (c *approverServeConfig) add(b *config.Binder) {
	config.String(b, &c.listen, config.Setting[string]{Flag: "listen", Env: []string{"CUSTOS_APPROVER_LISTEN"},
		Default: "127.0.0.1:8710", Help: "address of the approval route and the console"})
	config.String(b, &c.origin, config.Setting[string]{Flag: "origin", Env: []string{"CUSTOS_APPROVER_ORIGIN"},
		Default: "http://localhost:8710", Help: "the console's URL as operators' browsers reach it (https, or http to a loopback host); passkeys are bound to its host"})
	config.String(b, &c.rules, config.Setting[string]{Flag: "rules", Env: []string{"CUSTOS_APPROVER_RULES"},
		Help: "rules file (docs/approver.md; unset: every transaction needs one operator's approval)"})
	config.String(b, &c.approvalSecretFile, config.Setting[string]{Flag: "approval-secret-file",
		Help: "read the approval HMAC secret from this file instead of CUSTOS_APPROVAL_SECRET"})
	config.String(b, &c.approvalSecret, config.Setting[string]{Env: []string{"CUSTOS_APPROVAL_SECRET"}, Secret: true})
	config.Duration(b, &c.maxAge, config.Setting[time.Duration]{Flag: "approval-max-age", Env: []string{"CUSTOS_APPROVAL_MAX_AGE"},
		Default: 60 * time.Second, Help: "how far a request's timestamp may be from this clock"})
	config.Duration(b, &c.idleTimeout, config.Setting[time.Duration]{Flag: "idle-timeout", Env: []string{"CUSTOS_APPROVER_IDLE_TIMEOUT"},
		Default: approver.DefaultIdleTimeout, Help: "end a console session unused for this long"})
	config.Int(b, &c.signinLimit, config.Setting[int]{Flag: "signin-limit", Env: []string{"CUSTOS_APPROVER_SIGNIN_LIMIT"},
		Default: approver.DefaultSignInRate, Check: atLeast(0),
		Help: "passkey sign-ins and enrolments a minute per client address, failed ones counting twice (0: no limit)"})
	config.Int(b, &c.signinBurst, config.Setting[int]{Flag: "signin-burst", Env: []string{"CUSTOS_APPROVER_SIGNIN_BURST"},
		Default: approver.DefaultSignInBurst, Check: atLeast(1), Help: "sign-ins a client address may begin at once above --signin-limit"})
	config.String(b, &c.tlsCert, config.Setting[string]{Flag: "tls-cert", Env: []string{"CUSTOS_APPROVER_TLS_CERT"},
		Help: "serve HTTPS with this PEM certificate file (the chain, leaf first; a renewal written over it is served without a restart); with --tls-key"})
	config.String(b, &c.tlsKey, config.Setting[string]{Flag: "tls-key", Env: []string{"CUSTOS_APPROVER_TLS_KEY"},
		Help: "the PEM private key file of --tls-cert"})
	c.profile.add(b)
}

// signInRate is --signin-limit as the console takes it, where 0 is the
// default and a negative rate no limit.
func (c *approverServeConfig) signInRate() int {
	if c.signinLimit == 0 {
		return -1
	}
	return c.signinLimit
}

// tlsConfig loads --tls-cert and --tls-key (nil, nil without them). A
// renewed pair written over the files is served without a restart: the
// handshakes look at the files at most every tlsreload.DefaultInterval and
// reread them once changed, keeping the pair in service if the new one does
// not load.
func (c *approverServeConfig) tlsConfig(log *slog.Logger) (*tls.Config, error) {
	if c.tlsCert == "" && c.tlsKey == "" {
		return nil, nil
	}
	if c.tlsCert == "" || c.tlsKey == "" {
		return nil, errors.New("--tls-cert and --tls-key go together: the certificate and its private key")
	}
	// The browser calls the console by its origin: with TLS it is https.
	if u, err := url.Parse(c.origin); err == nil && u.Scheme != "https" {
		return nil, fmt.Errorf("--origin %s: with --tls-cert the console is https://", c.origin)
	}
	rl, err := tlsreload.New(c.tlsCert, c.tlsKey, tlsreload.Options{Log: log})
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	return &tls.Config{GetCertificate: rl.GetCertificate, MinVersion: tls.VersionTLS12}, nil
}

// plainWarning is the start-up warning for a console served in plain HTTP
// beyond this host ("" when it is TLS or loopback-only): passkeys need an
// https origin except on localhost, and the session cookie is Secure, so
// such a console works only behind a TLS-terminating proxy.
func plainWarning(listen string, tlsOn bool) string {
	if tlsOn {
		return ""
	}
	host, _, err := net.SplitHostPort(listen)
	if err == nil && host != "" && httpguard.Loopback(host) {
		return ""
	}
	return "the console is served in plain HTTP on " + listen + ", beyond this host: browsers allow passkeys and the Secure session cookie " +
		"only on https (or localhost), so serve it with --tls-cert and --tls-key, or only behind a TLS-terminating proxy"
}

// checkOrigin refuses an origin whose cookies a browser would send in clear.
func checkOrigin(origin string) error {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("--origin: want https://HOST[:PORT], got %q", origin)
	}
	if u.Scheme == "http" && !httpguard.Loopback(u.Hostname()) {
		return fmt.Errorf("--origin: http only for a loopback host; put the console behind TLS for %s", u.Hostname())
	}
	return nil
}

func newApproverCmd(a *app) *cobra.Command {
	var sf approverStore
	cmd := &cobra.Command{
		Use:   "approver",
		Short: "The approval service for `custos daemon --external-url`, with its web console for operators",
	}
	sf.add(a.persistentFlags(cmd))
	cmd.AddCommand(newApproverServeCmd(a, &sf), newApproverOperatorCmd(a, &sf))
	return cmd
}

func newApproverServeCmd(a *app, sf *approverStore) *cobra.Command {
	var c approverServeConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Answer the daemon's approval requests (POST /approval/{id}) and serve the operators' console",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runApprover(cmd.Context(), a, sf, c)
		},
	}
	c.add(a.flags(cmd))
	return cmd
}

func runApprover(ctx context.Context, a *app, sf *approverStore, c approverServeConfig) error {
	log := newLogger(a.stderr)
	stopProfile, err := c.profile.start()
	if err != nil {
		return err
	}
	defer stopProfile()
	if err := checkOrigin(c.origin); err != nil {
		return err
	}
	if c.approvalSecretFile == "" && c.approvalSecret == "" {
		return errors.New("approver serve needs the daemon's CUSTOS_APPROVAL_SECRET (or --approval-secret-file): approval requests and answers are HMAC-signed with it")
	}
	secret, err := approvalSecret(c.approvalSecretFile, c.approvalSecret)
	if err != nil {
		return err
	}
	tc, err := c.tlsConfig(log)
	if err != nil {
		return err
	}
	rules := &approver.Rules{}
	if c.rules != "" {
		f, err := os.Open(c.rules)
		if err != nil {
			return fmt.Errorf("--rules: %w", err)
		}
		rules, err = approver.ReadRules(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("--rules %s: %w", c.rules, err)
		}
	}
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	lg, err := audit.Open(sf.auditLog(a), audit.Options{Actor: "approver"})
	if err != nil {
		return err
	}
	defer lg.Close()
	svc, err := approver.New(approver.Config{Store: store, Rules: rules, Secret: secret, MaxSkew: c.maxAge, Audit: lg, Log: log})
	if err != nil {
		return err
	}
	console, err := approver.NewConsole(approver.ConsoleConfig{Service: svc, Origin: c.origin, IdleTimeout: c.idleTimeout,
		SignInRate: c.signInRate(), SignInBurst: c.signinBurst})
	if err != nil {
		return err
	}
	if w := plainWarning(c.listen, tc != nil); w != "" {
		log.Warn(w)
	}
	srv, err := startServer(c.listen, console.Handler(), log, tc)
	if err != nil {
		return err
	}
	log.Info("custos approver listening", "addr", srv.addr.String(), "tls", tc != nil, "origin", c.origin,
		"approval_url", strings.TrimSuffix(c.origin, "/")+strings.TrimSuffix(approver.ApprovalPath, "/"), "rules", len(rules.Rules))
	select {
	case err := <-srv.failed():
		return err
	case <-ctx.Done():
	}
	return srv.stop(ctx)
}

func newApproverOperatorCmd(a *app, sf *approverStore) *cobra.Command {
	cmd := &cobra.Command{Use: "operator", Short: "Manage the operators who sign in to the console and decide"}
	var origin, display string
	var apiKeys []string
	// enrolled prints an operator's enrolment link once it is recorded.
	enrolled := func(cmd *cobra.Command, name, token, event string) error {
		fields := map[string]any{"operator": name}
		if event == "approver.operator_added" {
			fields["apiKeys"] = apiKeys
		}
		if err := record(cmd.Context(), cmd, sf.auditLog(a), audit.Event{Type: event, Fields: fields}); err != nil {
			return fmt.Errorf("operator %s: enrolment created but not recorded in the audit log, so not shown: %w", name, err)
		}
		return printJSON(a.stdout, struct {
			Operator  string `json:"operator"`
			EnrolURL  string `json:"enrolUrl"`
			ExpiresIn string `json:"expiresIn"`
		}{name, approver.EnrolmentURL(strings.TrimSuffix(origin, "/"), token), approver.EnrolmentTTL.String()})
	}
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add an operator and print a one-time link to register their passkey",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sf.with(cmd, func(store approver.Store) error {
				token, err := approver.AddOperator(cmd.Context(), store, args[0], display, apiKeys, time.Now())
				if err != nil {
					return err
				}
				return enrolled(cmd, args[0], token, "approver.operator_added")
			})
		},
	}
	config.String(a.flags(add), &display, config.Setting[string]{Flag: "display-name", Help: "the operator's full name, shown with their passkey"})
	config.StringArray(a.flags(add), &apiKeys, config.Setting[[]string]{Flag: "api-key",
		Help: "the id of an API key the operator holds (repeatable): they cannot approve what it queued"})
	enrol := &cobra.Command{
		Use:   "enrol NAME",
		Short: "Print a new one-time link for an operator to register another passkey (the previous link stops working)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sf.with(cmd, func(store approver.Store) error {
				token, err := approver.Enrol(cmd.Context(), store, args[0], time.Now())
				if err != nil {
					return err
				}
				return enrolled(cmd, args[0], token, "approver.operator_enrol")
			})
		},
	}
	for _, c := range []*cobra.Command{add, enrol} {
		config.String(a.flags(c), &origin, config.Setting[string]{Flag: "origin", Env: []string{"CUSTOS_APPROVER_ORIGIN"},
			Default: "http://localhost:8710", Help: "the console's URL, for the link"})
	}
	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove an operator with their passkeys and sessions; their past decisions stay",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := sf.with(cmd, func(store approver.Store) error { return store.RemoveOperator(cmd.Context(), args[0]) }); err != nil {
				return fmt.Errorf("operator %s: %w", args[0], err)
			}
			if err := record(cmd.Context(), cmd, sf.auditLog(a), audit.Event{Type: "approver.operator_removed",
				Fields: map[string]any{"operator": args[0]}}); err != nil {
				return fmt.Errorf("operator %s removed but not recorded in the audit log: %w", args[0], err)
			}
			return printJSON(a.stdout, struct {
				Operator string `json:"operator"`
				Removed  bool   `json:"removed"`
			}{args[0], true})
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List operators with their number of passkeys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ops []approver.Operator
			if err := sf.with(cmd, func(store approver.Store) (err error) {
				ops, err = store.Operators(cmd.Context())
				return err
			}); err != nil {
				return err
			}
			type row struct {
				Name        string   `json:"name"`
				DisplayName string   `json:"displayName"`
				Passkeys    int      `json:"passkeys"`
				APIKeys     []string `json:"apiKeys"`
				CreatedAt   string   `json:"createdAt"`
			}
			out := []row{}
			for _, op := range ops {
				out = append(out, row{op.Name, op.DisplayName, op.Passkeys, append([]string{}, op.APIKeys...), op.CreatedAt.UTC().Format(time.RFC3339)})
			}
			return printJSON(a.stdout, out)
		},
	}
	cmd.AddCommand(add, enrol, remove, list)
	return cmd
}
