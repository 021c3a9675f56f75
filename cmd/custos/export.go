package main

import (
	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/walletstore"
)

func newExportCmd(a *app) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Print every stored wallet, with its secrets, as {signatureId: wallet}",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := newSession(a, &pf).openStore(cmd.Context(), cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			all, err := st.All(cmd.Context())
			if err != nil {
				return err
			}
			out := make(map[string]*walletstore.Wallet, len(all))
			ids := make([]string, 0, len(all))
			for _, e := range all {
				out[e.ID] = e.Wallet
				ids = append(ids, e.ID)
			}
			if err := a.recordExport(cmd, ids, map[string]any{}); err != nil {
				return err
			}
			return printJSON(a.stdout, out)
		},
	}
	pf.add(a.flags(cmd))
	return cmd
}
