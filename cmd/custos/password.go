package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/secret"
)

func newChangePasswordCmd(a *app) *cobra.Command {
	var (
		pf      passwordFlags
		newFile string
	)
	cmd := &cobra.Command{
		Use:   "changepassword",
		Short: "Change the wallet store password (rewraps the data key; records are untouched)",
		Long: "Change the wallet store password. The current password comes from the usual sources;\n" +
			"the new one from --new-password-file, or the terminal (asked twice), or the next line\n" +
			"of stdin. Wallet records are not rewritten, so a running daemon keeps working.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s := newSession(a, &pf)
			st, err := s.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			var npw []byte
			if newFile != "" {
				npw, err = secret.Options{PasswordFile: newFile}.Password(cmd.Context(), false)
			} else {
				npw, err = s.prompt.ReadNew("new wallet store password")
			}
			if err != nil {
				return err
			}
			defer secret.Zero(npw)
			if err := st.ChangePassword(cmd.Context(), npw); err != nil {
				return err
			}
			if err := record(cmd.Context(), cmd, a.walletAuditLog(), audit.Event{Type: "store.password_changed", Fields: map[string]any{}}); err != nil {
				return fmt.Errorf("password changed but not recorded in the audit log: %w", err)
			}
			return printJSON(a.stdout, struct{}{})
		},
	}
	b := a.flags(cmd)
	config.String(b, &newFile, config.Setting[string]{Flag: "new-password-file", Help: "read the new password from this file"})
	pf.add(b)
	return cmd
}
