package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/walletstore"
)

// withStore opens the existing store for the length of fn, so every command
// that reads or removes a wallet unlocks and closes it the same way.
func withStore(cmd *cobra.Command, a *app, pf *passwordFlags, fn func(*walletstore.Store) error) error {
	st, err := newSession(a, pf).openStore(cmd.Context(), cmd)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

func newGetManagedWalletCmd(a *app) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "getmanagedwallet SIGNATURE_ID",
		Short: "Print a stored wallet: its mnemonic or private key, xpub, chain and network",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, a, &pf, func(st *walletstore.Store) error {
				w, err := st.Get(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if err := a.recordExport(cmd, args[:1], map[string]any{}); err != nil {
					return err
				}
				return printJSON(a.stdout, w)
			})
		},
	}
	pf.add(a.flags(cmd))
	return cmd
}

func newRemoveWalletCmd(a *app) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "removewallet SIGNATURE_ID",
		Short: "Remove a wallet from the store",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, a, &pf, func(st *walletstore.Store) error {
				if err := st.Delete(cmd.Context(), args[0]); err != nil {
					return err
				}
				if err := a.recordWallets(cmd, "wallet.removed", args[:1], map[string]any{}); err != nil {
					return fmt.Errorf("wallet %s removed but not recorded in the audit log: %w", args[0], err)
				}
				return printJSON(a.stdout, struct{}{})
			})
		},
	}
	pf.add(a.flags(cmd))
	return cmd
}

func newGetPrivateKeyCmd(a *app) *cobra.Command {
	return newWalletIndexCmd(a, "getprivatekey SIGNATURE_ID INDEX",
		"Print the private key at INDEX of a mnemonic wallet (a private-key wallet's own key)",
		"privateKey", true, privateKeyOf)
}

func newGetAddressCmd(a *app) *cobra.Command {
	return newWalletIndexCmd(a, "getaddress SIGNATURE_ID INDEX",
		"Print the address at INDEX of a wallet (a private-key wallet's own address)",
		"address", false, addressOf)
}

// newWalletIndexCmd builds a command that reads one stored wallet and prints
// {field: of(wallet, INDEX)}; secret says the field is one, to be recorded as
// an export first.
func newWalletIndexCmd(a *app, use, short, field string, secret bool, of func(*walletstore.Wallet, uint32) (string, error)) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			index, err := parseIndex(args[1])
			if err != nil {
				return err
			}
			return withStore(cmd, a, &pf, func(st *walletstore.Store) error {
				w, err := st.Get(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				v, err := of(w, index)
				if err != nil {
					return err
				}
				if secret {
					if err := a.recordExport(cmd, args[:1], map[string]any{"index": index}); err != nil {
						return err
					}
				}
				return printJSON(a.stdout, map[string]string{field: v})
			})
		},
	}
	pf.add(a.flags(cmd))
	return cmd
}
