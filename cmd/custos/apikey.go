package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/pending"
)

func newAPIKeyCmd(a *app) *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "apikey",
		Short: "Manage the API keys of `custos serve` (each key is its own tenant)",
	}
	sf.add(a.persistentFlags(cmd))

	var name, scopes string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API key; it is printed once and stored only as a hash (--testnet for a testnet key, --scope to narrow it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			sc, err := pending.ParseScopes(scopes)
			if err != nil {
				return fmt.Errorf("--scope: %w", err)
			}
			secret, hash, err := api.NewAPIKey()
			if err != nil {
				return err
			}
			k, err := store.CreateKey(cmd.Context(), name, a.testnet, sc, hash)
			if err != nil {
				return err
			}
			// The key is printed only once its creation is recorded; unprinted,
			// it can never be used (only its hash is stored).
			if err := record(cmd.Context(), cmd, sf.auditLog(a), audit.Event{Type: "apikey.created",
				Fields: map[string]any{"id": k.ID, "name": name, "testnet": a.testnet}}); err != nil {
				return fmt.Errorf("API key %s created but not recorded in the audit log, so not shown (revoke it): %w", k.ID, err)
			}
			return printJSON(a.stdout, struct {
				ID     string   `json:"id"`
				APIKey string   `json:"apiKey"`
				Scopes []string `json:"scopes"`
			}{k.ID, secret, k.Scopes.Names()})
		},
	}
	config.String(a.flags(create), &name, config.Setting[string]{Flag: "name", Help: "a label for the key"})
	config.String(a.flags(create), &scopes, config.Setting[string]{Flag: "scope", Default: pending.AllScopes.String(),
		Help: "what the key may do, comma-separated: queue (the application: queue, read, delete), " +
			"sign (the signer: pending, broadcast, complete, error reports), admin (metrics)"})

	list := &cobra.Command{
		Use:   "list",
		Short: "List API keys with their network, scopes and credits used",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			keys, err := store.Keys(cmd.Context())
			if err != nil {
				return err
			}
			type row struct {
				ID        string   `json:"id"`
				Name      string   `json:"name,omitempty"`
				Testnet   bool     `json:"testnet"`
				Scopes    []string `json:"scopes"`
				Credits   int64    `json:"credits"`
				CreatedAt string   `json:"createdAt"`
				RevokedAt string   `json:"revokedAt,omitempty"`
			}
			out := []row{}
			for _, k := range keys {
				r := row{ID: k.ID, Name: k.Name, Testnet: k.Testnet, Scopes: k.Scopes.Names(), Credits: k.Credits,
					CreatedAt: k.CreatedAt.UTC().Format(time.RFC3339)}
				if k.RevokedAt != nil {
					r.RevokedAt = k.RevokedAt.UTC().Format(time.RFC3339)
				}
				out = append(out, r)
			}
			return printJSON(a.stdout, out)
		},
	}

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key; requests with it answer 401 at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			if err := store.RevokeKey(cmd.Context(), args[0]); err != nil {
				if errors.Is(err, pending.ErrKeyNotFound) {
					return errors.New("no active API key with id " + args[0])
				}
				return err
			}
			if err := record(cmd.Context(), cmd, sf.auditLog(a), audit.Event{Type: "apikey.revoked",
				Fields: map[string]any{"id": args[0]}}); err != nil {
				return fmt.Errorf("API key %s revoked but not recorded in the audit log: %w", args[0], err)
			}
			return printJSON(a.stdout, struct {
				ID      string `json:"id"`
				Revoked bool   `json:"revoked"`
			}{args[0], true})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// auditLog is where API key acts are recorded: --audit-log, else audit.log in
// the data dir, on the server's side where the keys are kept.
func (f *storeFlags) auditLog(a *app) string {
	if a.auditLog != "" {
		return a.auditLog
	}
	return filepath.Join(f.dataDir, "audit.log")
}
