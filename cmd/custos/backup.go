package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/backup"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/pending/sqlite"
	"github.com/custoskms/custos/internal/secret"
	"github.com/custoskms/custos/internal/walletstore"
)

// errPostgresBackup sends PostgreSQL users to their database's own tools,
// which copy a live database consistently and restore it across versions.
var errPostgresBackup = errors.New("--database: back up PostgreSQL with pg_dump and restore it with pg_restore (README: Backups)")

// backupReport is what backup, verify and restore print.
type backupReport struct {
	File    string    `json:"file"`
	Store   string    `json:"store"`
	Format  int       `json:"format"`
	Created time.Time `json:"created"`
	Wallets *int      `json:"wallets,omitempty"`
	// Restored is where restore put the store.
	Restored string `json:"restored,omitempty"`
}

func reportOf(file string, m *backup.Manifest) backupReport {
	return backupReport{File: file, Store: m.Store, Format: m.Format, Created: m.Created, Wallets: m.Wallets}
}

func newBackupCmd(a *app) *cobra.Command {
	var out, database string
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Copy the wallet store, or with --database the SQLite pending store, into a backup file while it is in use",
		Long: `Copy the wallet store (or, with --database sqlite:PATH, the SQLite pending store)
into FILE, consistently, while the CLI, the daemon and serve keep using it. The
wallet records stay encrypted: no password is needed and nothing is decrypted.
The file is 0600 and starts with two text lines saying which store and format
version it holds. Check it with 'custos backup verify FILE'; put it back with
'custos backup restore FILE'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out: the backup file to write")
			}
			snap, src, err := a.snapshotter(database)
			if err != nil {
				return err
			}
			if sameFile(out, src) {
				return fmt.Errorf("--out: %s is the store itself", out)
			}
			m, err := backup.Take(cmd.Context(), out, snap)
			if err != nil {
				return err
			}
			if err := a.recordBackup(cmd, "store.backed_up", out, m); err != nil {
				return fmt.Errorf("backup written to %s but not recorded in the audit log: %w", out, err)
			}
			return printJSON(a.stdout, reportOf(out, m))
		},
	}
	b := a.flags(cmd)
	config.String(b, &out, config.Setting[string]{Flag: "out", Help: "backup file to write (0600; replaced once the new one is complete)"})
	// No environment variable: CUSTOS_DATABASE, set for serve, must not turn
	// a backup of the wallet store into one of the pending store.
	config.String(b, &database, config.Setting[string]{Flag: "database",
		Help: "back up this SQLite pending store (sqlite:PATH) instead of the wallet store"})
	cmd.AddCommand(newBackupVerifyCmd(a), newBackupRestoreCmd(a))
	return cmd
}

// sameFile reports whether a and b name one existing file: a backup written
// over its own store would replace the store with the backup.
func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// snapshotter chooses the store a backup copies, and returns its path: the
// wallet store at --path, or the SQLite pending store a --database URL names.
func (a *app) snapshotter(database string) (backup.Snapshotter, string, error) {
	if database == "" {
		path := a.walletPath
		return func(ctx context.Context, dst string) (backup.Manifest, error) {
			info, err := walletstore.Snapshot(ctx, path, dst)
			if err != nil {
				return backup.Manifest{}, err
			}
			return backup.Manifest{Store: backup.StoreWallet, Format: info.FormatVersion, Wallets: &info.Wallets}, nil
		}, path, nil
	}
	path, pg, err := parseDatabase(database)
	if err != nil {
		return nil, "", err
	}
	if pg {
		return nil, "", errPostgresBackup
	}
	return func(ctx context.Context, dst string) (backup.Manifest, error) {
		v, err := sqlite.Snapshot(ctx, path, dst)
		return backup.Manifest{Store: backup.StorePendingSQLite, Format: v}, err
	}, path, nil
}

// recordBackup records a copy of the wallet store taken or put back (whoever
// holds a copy can try passwords on it offline). The pending store's acts go
// unrecorded, as its other changes do.
func (a *app) recordBackup(cmd *cobra.Command, event, file string, m *backup.Manifest) error {
	if m.Store != backup.StoreWallet {
		return nil
	}
	if abs, err := filepath.Abs(file); err == nil {
		file = abs
	}
	return record(cmd.Context(), cmd, a.walletAuditLog(), audit.Event{Type: event,
		Fields: map[string]any{"file": file, "wallets": *m.Wallets, "created": m.Created}})
}

func newBackupVerifyCmd(a *app) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a backup: its checksum and, with the store password, every wallet record",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			dir, err := os.MkdirTemp("", "custos-verify-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			img := filepath.Join(dir, "copy.db")
			m, damaged := backup.Extract(file, img)
			if m == nil {
				return damaged
			}
			// A checksum mismatch alone does not say what was hit: the store's
			// own check goes on, to name the damaged records.
			var checked error
			r := reportOf(file, m)
			switch m.Store {
			case backup.StoreWallet:
				var n int
				n, checked = verifyWalletCopy(cmd.Context(), newSession(a, &pf), img, m)
				r.Wallets = &n
			case backup.StorePendingSQLite:
				_, checked = sqlite.Check(cmd.Context(), img)
			}
			if err := errors.Join(damaged, checked); err != nil {
				return fmt.Errorf("backup %s: %w", file, err)
			}
			return printJSON(a.stdout, r)
		},
	}
	pf.add(a.flags(cmd))
	return cmd
}

// verifyWalletCopy unlocks the wallet store copied out of a backup and opens
// every record; it returns how many records it read.
func verifyWalletCopy(ctx context.Context, s *session, img string, m *backup.Manifest) (int, error) {
	pw, err := s.password(ctx, false)
	if err != nil {
		return 0, err
	}
	defer secret.Zero(pw)
	st, err := walletstore.Open(ctx, img, pw, walletstore.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	n, err := st.Verify(ctx)
	if m.Wallets != nil && n != *m.Wallets {
		err = errors.Join(err, fmt.Errorf("%w: %d wallet records, the manifest says %d", walletstore.ErrCorrupt, n, *m.Wallets))
	}
	return n, err
}

func newBackupRestoreCmd(a *app) *cobra.Command {
	var database string
	var force bool
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Put a backup back: the wallet store at --path, or the pending store at --database sqlite:PATH",
		Long: `Put the store in a backup back in place, in one rename once it is written and
checked against the backup's checksum: a wallet-store backup at --path, a
pending-store backup at --database sqlite:PATH. Stop serve and the daemon
first. An existing store is replaced only with --force.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			m, err := backup.ReadManifest(file)
			if err != nil {
				return err
			}
			target, err := a.restoreTarget(m, database)
			if err != nil {
				return err
			}
			if m, err = backup.Restore(file, target, force); err != nil {
				return err
			}
			if err := a.recordBackup(cmd, "store.restored", file, m); err != nil {
				return fmt.Errorf("store restored to %s but not recorded in the audit log: %w", target, err)
			}
			r := reportOf(file, m)
			r.Restored = target
			return printJSON(a.stdout, r)
		},
	}
	b := a.flags(cmd)
	config.String(b, &database, config.Setting[string]{Flag: "database",
		Help: "restore a pending-store backup to this SQLite file (sqlite:PATH)"})
	config.Bool(b, &force, config.Setting[bool]{Flag: "force", Help: "replace an existing store"})
	return cmd
}

// restoreTarget is where the store in a backup goes back: the kind of store
// it holds decides, so a pending store is never written over the wallet store.
func (a *app) restoreTarget(m *backup.Manifest, database string) (string, error) {
	if m.Store == backup.StoreWallet {
		if database != "" {
			return "", errors.New("--database: this backup holds the wallet store, which goes back to --path")
		}
		return a.walletPath, nil
	}
	if database == "" {
		return "", errors.New("--database: this backup holds the pending store: say where it goes with --database sqlite:PATH")
	}
	path, pg, err := parseDatabase(database)
	if err != nil {
		return "", err
	}
	if pg {
		return "", errPostgresBackup
	}
	return path, nil
}
