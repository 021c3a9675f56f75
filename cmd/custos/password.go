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
		rekey   bool
	)
	cmd := &cobra.Command{
		Use:   "changepassword",
		Short: "Change the wallet store password; with --rekey, also replace the data key",
		Long: "Change the wallet store password. The current password comes from the usual sources;\n" +
			"the new one from --new-password-file, or the terminal (asked twice), or the next line\n" +
			"of stdin.\n\n" +
			"Plain changepassword rewraps the data key under the new password: it is instant and\n" +
			"wallet records are not rewritten, so a running daemon keeps working. But whoever kept\n" +
			"a copy of the file (or only its header) can still open every record, including wallets\n" +
			"added later, with the OLD password.\n\n" +
			"changepassword --rekey draws a new data key and reseals every record with it in one\n" +
			"crash-safe transaction (a kill at any instant leaves the old store, opened by the old\n" +
			"password, or the new one, opened by the new password only): an old copy of the header\n" +
			"and the old password no longer open anything. Use it after a password or a file may have\n" +
			"leaked. A running daemon must be restarted with the new password afterwards.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s := newSession(a, &pf)
			st, err := s.openStore(cmd.Context(), cmd)
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
			change, event := st.ChangePassword, "store.password_changed"
			if rekey {
				change, event = st.Rekey, "store.rekeyed"
			}
			if err := change(cmd.Context(), npw); err != nil {
				return err
			}
			if err := record(cmd.Context(), cmd, a.walletAuditLog(), audit.Event{Type: event, Fields: map[string]any{}}); err != nil {
				return fmt.Errorf("password changed but not recorded in the audit log: %w", err)
			}
			return printJSON(a.stdout, struct{}{})
		},
	}
	b := a.flags(cmd)
	config.String(b, &newFile, config.Setting[string]{Flag: "new-password-file", Help: "read the new password from this file"})
	config.Bool(b, &rekey, config.Setting[bool]{Flag: "rekey", Help: "also replace the data key and reseal every wallet record (see above)"})
	pf.add(b)
	return cmd
}
