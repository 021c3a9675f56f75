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

	"github.com/custoskms/custos/internal/config"
)

// app carries what every subcommand shares: global flags and the process's streams.
type app struct {
	walletPath string
	testnet    bool
	envFile    string

	stdin          io.Reader
	stdout, stderr io.Writer
}

// commands are added by the files of this package, one per subcommand group.
var commands []func(*app) *cobra.Command

func register(f func(*app) *cobra.Command) { commands = append(commands, f) }

func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "custos",
		Short:         "Self-hosted key management for custodial blockchain applications",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if a.envFile != "" {
				if err := config.LoadEnvFile(a.envFile); err != nil {
					return err
				}
			}
			if !cmd.Flags().Changed("path") {
				if p, ok := config.Getenv("CUSTOS_PATH"); ok && p != "" {
					a.walletPath = p
				}
			}
			return nil
		},
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&a.walletPath, "path", defaultWalletPath(), "wallet file (env CUSTOS_PATH)")
	pf.BoolVar(&a.testnet, "testnet", false, "use testnet derivation paths and encodings")
	pf.StringVar(&a.envFile, "envFile", "", "read KEY=VALUE environment defaults from this file")
	for _, f := range commands {
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

// run executes the CLI and returns the process exit code. Errors are printed as
// one JSON line {"error":"…"} on stderr, as Tatum KMS users script against.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
