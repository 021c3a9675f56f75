package main

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/secret"
	"github.com/custoskms/custos/internal/walletstore"
)

type skipped struct {
	SignatureID string `json:"signatureId"`
	Chain       string `json:"chain,omitempty"`
	Reason      string `json:"reason"`
}

type importResult struct {
	Imported []string  `json:"imported"`
	Skipped  []skipped `json:"skipped"`
}

func newImportCmd(a *app) *cobra.Command {
	var (
		pf    passwordFlags
		tatum string
	)
	cmd := &cobra.Command{
		Use:   "import --tatum FILE",
		Short: "Import the wallets of a Tatum KMS wallet.dat, keeping their signature IDs",
		Long: "Import a Tatum KMS wallet.dat. Its password is read first (terminal without echo, or\n" +
			"the first line of stdin), then the Custos store password (unless it comes from the\n" +
			"environment, a file or a secret manager). Every record is checked; records of chains\n" +
			"Custos does not serve, invalid keys and signature IDs already in the store are skipped\n" +
			"and listed. The import is one transaction.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if tatum == "" {
				return errors.New("import needs --tatum FILE")
			}
			data, err := os.ReadFile(tatum)
			if err != nil {
				return fmt.Errorf("tatum wallet file: %w", err)
			}
			s := newSession(a, &pf)
			tpw, err := s.prompt.Read("Tatum wallet.dat password")
			if err != nil {
				return err
			}
			recs, err := walletstore.DecryptTatum(data, tpw)
			secret.Zero(tpw)
			if err != nil {
				return err
			}
			ids := make([]string, 0, len(recs))
			for id := range recs {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			res := importResult{Imported: []string{}, Skipped: []skipped{}}
			var entries []walletstore.Entry
			for _, id := range ids {
				w, err := walletstore.ParseTatumRecord(id, recs[id])
				if err != nil {
					res.Skipped = append(res.Skipped, skipped{SignatureID: id, Reason: "not a wallet record"})
					continue
				}
				if reason := checkImported(w); reason != "" {
					res.Skipped = append(res.Skipped, skipped{id, w.Chain, reason})
					continue
				}
				entries = append(entries, walletstore.Entry{ID: id, Wallet: w})
			}

			pw, err := s.password(cmd.Context(), true)
			if err != nil {
				return err
			}
			st, err := s.openWith(cmd.Context(), pw, walletstore.Options{Create: true, BulkWrites: true})
			if err != nil {
				return err
			}
			defer st.Close()
			var fresh []walletstore.Entry
			for _, e := range entries {
				if _, err := st.Get(cmd.Context(), e.ID); err == nil {
					res.Skipped = append(res.Skipped, skipped{e.ID, e.Wallet.Chain, "signature ID already in store"})
					continue
				} else if !errors.Is(err, walletstore.ErrNotFound) {
					return err
				}
				fresh = append(fresh, e)
				res.Imported = append(res.Imported, e.ID)
			}
			if err := st.PutMany(cmd.Context(), fresh); err != nil {
				return err
			}
			if err := a.recordAdded(cmd, fresh, map[string]any{"source": "tatum"}); err != nil {
				return err
			}
			return printJSON(a.stdout, res)
		},
	}
	b := a.flags(cmd)
	config.String(b, &tatum, config.Setting[string]{Flag: "tatum", Help: "Tatum KMS wallet.dat to import"})
	pf.add(b)
	return cmd
}

// checkImported says why a Tatum record cannot be served, or "" when it can.
// Tatum KMS stores whatever it is given, so records are checked here.
func checkImported(w *walletstore.Wallet) string {
	c, err := chains.Lookup(w.Chain)
	if err != nil {
		return "chain not supported"
	}
	w.Chain = c.Info().Code
	d, ok := c.(chain.Deriver)
	if !ok {
		return "key derivation for this chain is not available in this build"
	}
	if w.Mnemonic != "" {
		seed, err := chain.Seed(w.Mnemonic)
		if err != nil {
			return "invalid mnemonic"
		}
		secret.Zero(seed)
		return ""
	}
	key := w.PrivateKey
	if key == "" {
		key = w.Secret
	}
	if _, err := d.AddressFromPrivateKey(key, w.Testnet); err != nil {
		return "invalid private key for chain"
	}
	return ""
}
