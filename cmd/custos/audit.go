package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/walletstore"
)

// The CLI appends its administrative acts to the audit log (docs/design.md
// §7.4): wallets added, removed or exported, the store password changed, API
// keys created or revoked. A secret is read out (export, getmanagedwallet,
// getprivatekey) only once its entry is on disk: when the log cannot be
// written, nothing is printed. A change to a store (adding, removing a
// wallet, a new password, an API key) is recorded once it is done; when the
// entry cannot be written the command fails naming what it did, so that the
// operator knows the act went unrecorded.

// auditIDsPerEntry bounds the signature IDs one entry lists (about 400 KB),
// so that a batch or an export of a large store makes several entries.
const auditIDsPerEntry = 10_000

// walletAuditLog is --audit-log, else audit.log beside the wallet file (where
// the daemon's ledger and log are by default: the CLI and the daemon share it).
func (a *app) walletAuditLog() string {
	if a.auditLog != "" {
		return a.auditLog
	}
	return filepath.Join(filepath.Dir(a.walletPath), "audit.log")
}

// record appends events to the audit log at path as this CLI command.
func record(ctx context.Context, cmd *cobra.Command, path string, events ...audit.Event) error {
	l, err := audit.Open(path, audit.Options{Actor: "cli"})
	if err != nil {
		return err
	}
	for i := range events {
		if events[i].Fields == nil {
			events[i].Fields = map[string]any{}
		}
		events[i].Fields["command"] = cmd.Name()
	}
	return errors.Join(l.Append(ctx, events...), l.Close())
}

// recordWallets records one act on wallets, in entries of at most
// auditIDsPerEntry signature IDs, with fields common to each.
func (a *app) recordWallets(cmd *cobra.Command, event string, ids []string, fields map[string]any) error {
	var events []audit.Event
	for part := range slices.Chunk(ids, auditIDsPerEntry) {
		f := map[string]any{"signatureIds": part}
		for k, v := range fields {
			f[k] = v
		}
		events = append(events, audit.Event{Type: event, Fields: f})
	}
	return record(cmd.Context(), cmd, a.walletAuditLog(), events...)
}

// recordAdded records wallets just stored; the error names them, as they
// stay stored.
func (a *app) recordAdded(cmd *cobra.Command, entries []walletstore.Entry, fields map[string]any) error {
	if len(entries) == 0 {
		return nil
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	if err := a.recordWallets(cmd, "wallet.added", ids, fields); err != nil {
		return fmt.Errorf("%d wallet(s) stored (first %s) but not recorded in the audit log: %w", len(ids), ids[0], err)
	}
	return nil
}

// walletFields describe a new wallet in its entry: chain, network and what
// it holds, never the value.
func walletFields(w *walletstore.Wallet) map[string]any {
	kind := "privateKey"
	switch {
	case w.Mnemonic != "":
		kind = "mnemonic"
	case w.Secret != "":
		kind = "secret"
	case w.Remote != nil:
		kind = w.Remote.Backend
	}
	return map[string]any{"chain": w.Chain, "testnet": w.Testnet, "kind": kind}
}

// recordExport records that wallets' secrets are about to be printed; when
// it fails they are not.
func (a *app) recordExport(cmd *cobra.Command, ids []string, fields map[string]any) error {
	if err := a.recordWallets(cmd, "wallet.exported", ids, fields); err != nil {
		return fmt.Errorf("export refused: the audit log cannot be written: %w", err)
	}
	return nil
}

func newAuditCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Check the audit log"}
	var file, expect string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Verify the audit log's hash chain; prints {ok, entries, lastSeq, lastHash}",
		Long: "Walks the audit log's hash chain and checks it against its head file (PATH.head) and\n" +
			"--expect-head. Prints one JSON line; exits 2 at the first entry edited, removed,\n" +
			"inserted, reordered or cut mid-line, naming it. Keep lastHash somewhere else and pass it\n" +
			"as --expect-head later: that finds entries removed from the end even when the head file\n" +
			"was rewritten too.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				file = a.walletAuditLog()
			}
			rep, head, err := audit.VerifyFile(file, expect)
			type result struct {
				OK bool `json:"ok"`
				audit.Report
				Head  bool   `json:"head"`
				File  string `json:"file"`
				Line  int    `json:"line,omitempty"`
				Error string `json:"error,omitempty"`
			}
			var be *audit.BrokenError
			if err != nil && !errors.As(err, &be) {
				return err
			}
			out := result{OK: err == nil, Report: rep, Head: head, File: file}
			if be != nil {
				out.Line, out.Error = be.Line, be.Error()
			}
			if perr := printJSON(a.stdout, out); perr != nil {
				return perr
			}
			if err != nil {
				return exitError{err, 2}
			}
			return nil
		},
	}
	b := a.flags(verify)
	config.String(b, &file, config.Setting[string]{Flag: "file", Help: "audit log to verify (unset: --audit-log, else audit.log beside the wallet file)"})
	config.String(b, &expect, config.Setting[string]{Flag: "expect-head",
		Help: "the hash of an entry recorded elsewhere (an earlier lastHash) that the log must still hold"})
	cmd.AddCommand(verify)
	return cmd
}
