package main

import (
	"github.com/spf13/cobra"
)

func init() {
	register(newGetManagedWalletCmd)
	register(newRemoveWalletCmd)
	register(newGetPrivateKeyCmd)
	register(newGetAddressCmd)
}

func newGetManagedWalletCmd(a *app) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "getmanagedwallet SIGNATURE_ID",
		Short: "Print a stored wallet: its mnemonic or private key, xpub, chain and network",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := newSession(a, &pf).openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			w, err := st.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(a.stdout, w)
		},
	}
	pf.add(cmd)
	return cmd
}

func newRemoveWalletCmd(a *app) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "removewallet SIGNATURE_ID",
		Short: "Remove a wallet from the store",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := newSession(a, &pf).openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Delete(cmd.Context(), args[0]); err != nil {
				return err
			}
			return printJSON(a.stdout, struct{}{})
		},
	}
	pf.add(cmd)
	return cmd
}

func newGetPrivateKeyCmd(a *app) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "getprivatekey SIGNATURE_ID INDEX",
		Short: "Print the private key at INDEX of a mnemonic wallet (a private-key wallet's own key)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			index, err := parseIndex(args[1])
			if err != nil {
				return err
			}
			st, err := newSession(a, &pf).openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			w, err := st.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			key, err := privateKeyOf(w, index)
			if err != nil {
				return err
			}
			return printJSON(a.stdout, map[string]string{"privateKey": key})
		},
	}
	pf.add(cmd)
	return cmd
}

func newGetAddressCmd(a *app) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "getaddress SIGNATURE_ID INDEX",
		Short: "Print the address at INDEX of a wallet (a private-key wallet's own address)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			index, err := parseIndex(args[1])
			if err != nil {
				return err
			}
			st, err := newSession(a, &pf).openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			w, err := st.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			addr, err := addressOf(w, index)
			if err != nil {
				return err
			}
			return printJSON(a.stdout, map[string]string{"address": addr})
		},
	}
	pf.add(cmd)
	return cmd
}
