// Command custos is the Custos key management system: the wallet store and its
// key-management commands, the pending-transaction API (serve) and the signer
// daemon. This package only parses flags and wires the internal packages.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/harden"
)

// app carries what every subcommand shares: the global settings, where
// settings come from, and the process's streams.
type app struct {
	walletPath string
	testnet    bool
	envFile    string
	// auditLog is --audit-log; "" takes each command's default (audit.go).
	auditLog string

	// lookupEnv reads the process environment; env is it with the --env-file
	// layered under it, set before any command runs.
	lookupEnv func(string) (string, bool)
	env       config.Source
	// scrubEnv, set by main only (commands run in-process by tests keep the
	// test's environment), moves the secret variables out of the process
	// environment when settings are resolved: see takeSecrets.
	scrubEnv bool
	// binders are the settings of each command, resolved together before it runs.
	binders []boundFlags

	stdin          io.Reader
	stdout, stderr io.Writer
}

type boundFlags struct {
	cmd *cobra.Command
	b   *config.Binder
}

// flags declares settings as cmd's own flags.
func (a *app) flags(cmd *cobra.Command) *config.Binder { return a.bind(cmd, cmd.Flags()) }

// persistentFlags declares settings as flags of cmd and its subcommands.
func (a *app) persistentFlags(cmd *cobra.Command) *config.Binder {
	return a.bind(cmd, cmd.PersistentFlags())
}

func (a *app) bind(cmd *cobra.Command, fs *pflag.FlagSet) *config.Binder {
	b := config.NewBinder(fs)
	a.binders = append(a.binders, boundFlags{cmd, b})
	return b
}

// resolve reads the env file, then fills the settings of cmd and of its
// parents from their flags, the environment, the env file and the defaults.
func (a *app) resolve(cmd *cobra.Command) error {
	if a.scrubEnv {
		a.takeSecrets()
	}
	a.env = config.NewSource(a.lookupEnv, nil)
	if a.envFile != "" {
		var err error
		if a.env, err = a.env.WithFile(a.envFile); err != nil {
			return err
		}
	}
	var errs []error
	for _, bf := range a.binders {
		for c := cmd; c != nil; c = c.Parent() {
			if c == bf.cmd {
				errs = append(errs, bf.b.Resolve(a.env))
				break
			}
		}
	}
	return errors.Join(errs...)
}

func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:               "custos",
		Short:             "Self-hosted key management for custodial blockchain applications",
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return a.resolve(cmd) },
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	g := a.persistentFlags(root)
	config.String(g, &a.walletPath, config.Setting[string]{Flag: "path", Env: []string{"CUSTOS_PATH", "TATUM_KMS_PATH"},
		Default: defaultWalletPath(), Help: "wallet file"})
	config.Bool(g, &a.testnet, config.Setting[bool]{Flag: "testnet", Help: "use testnet derivation paths and encodings"})
	config.String(g, &a.envFile, config.Setting[string]{Flag: "env-file", Aliases: []string{"envFile"},
		Help: "read KEY=VALUE variables from this file; variables already set in the environment win"})
	config.String(g, &a.auditLog, config.Setting[string]{Flag: "audit-log", Env: []string{"CUSTOS_AUDIT_LOG"},
		Help: "audit log (unset: audit.log beside the wallet file; apikey: in --data-dir)"})
	for _, f := range []func(*app) *cobra.Command{
		newGenerateWalletCmd, newGenerateManagedWalletCmd, newStoreManagedWalletCmd,
		newStoreManagedPrivateKeyCmd, newBatchCmd, newGetManagedWalletCmd, newRemoveWalletCmd,
		newGetPrivateKeyCmd, newGetAddressCmd, newExportCmd, newImportCmd, newChangePasswordCmd,
		newCheckConfigCmd, newReportCmd, newDaemonCmd, newSignCmd, newServeCmd, newAPIKeyCmd,
		newDevCmd, newVersionCmd, newAuditCmd, newPolicyCmd, newApproverCmd, newBackupCmd,
		newSealCmd, newUnsealCmd,
	} {
		root.AddCommand(f(a))
	}
	return root
}

func defaultWalletPath() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".custos", "wallet.dat")
	}
	return filepath.Join(home, ".custos", "wallet.dat")
}

// takeSecrets moves every secret variable a command may read (the password,
// the API key, the approval secret, the secret managers' credentials) from
// the process environment into the app's lookup, once: nothing that reads the
// environment later (a library, a child process, a diagnostic dump) finds
// them. The kernel's copy of the initial environment, /proc/PID/environ,
// keeps them; the process being not dumpable (harden.Process) makes that file
// readable by root only.
func (a *app) takeSecrets() {
	a.scrubEnv = false
	taken := map[string]string{}
	for _, v := range a.knownVariables() {
		if !v.Secret {
			continue
		}
		if val, ok := os.LookupEnv(v.Name); ok {
			taken[v.Name] = val
			_ = os.Unsetenv(v.Name)
		}
	}
	base := a.lookupEnv
	a.lookupEnv = func(name string) (string, bool) {
		if v, ok := taken[name]; ok {
			return v, true
		}
		return base(name)
	}
}

// run executes the CLI and returns the process exit code. Errors are printed as
// one JSON line {"error":"…"} on stderr, as Tatum KMS users script against.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runApp(ctx, &app{lookupEnv: os.LookupEnv, stdin: stdin, stdout: stdout, stderr: stderr}, args)
}

func runApp(ctx context.Context, a *app, args []string) int {
	stderr := a.stderr
	root := newRoot(a)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		writeError(stderr, err)
		var ec interface{ ExitCode() int }
		if errors.As(err, &ec) {
			return ec.ExitCode()
		}
		return 1
	}
	return 0
}

func writeError(w io.Writer, err error) {
	b, _ := json.Marshal(map[string]string{"error": err.Error()})
	fmt.Fprintln(w, string(b))
}

// printJSON writes v as one JSON line on w.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func main() {
	// Before any secret is read: no core file and no same-user ptrace or
	// /proc/PID/mem read can reach the keys.
	if err := harden.Process(); err != nil {
		newLogger(os.Stderr).Warn("process hardening failed: core dumps may hold keys", "err", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{lookupEnv: os.LookupEnv, scrubEnv: true, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	code := runApp(ctx, a, os.Args[1:])
	stop()
	os.Exit(code)
}
