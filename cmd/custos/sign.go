package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/daemon"
)

// maxPendingTxBytes bounds the transaction read by `sign`: the largest real
// ones (UTXO with many inputs) are far smaller.
const maxPendingTxBytes = 8 << 20

func newSignCmd(a *app) *cobra.Command {
	var (
		file     string
		chainIDs chainIDFlags
		password passwordFlags
	)
	cmd := &cobra.Command{
		Use:   "sign",
		Short: "Sign one pending transaction offline: PendingTx JSON in, {\"txData\",\"txId\"} out",
		Long: `Reads one pending transaction (the JSON that GET /v3/kms/{id} answers) from stdin or
--file, signs it with the wallets of the local store and prints {"txData","txId"}.
It uses no network at all, for air-gapped signing; submit the output with
POST /v3/{chain}/broadcast from a connected machine.

The password comes from CUSTOS_PASSWORD, --password-file or a secret manager; when
the transaction is given with --file it may also be typed or piped on stdin.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSign(cmd.Context(), a, file, chainIDs, &password)
		},
	}
	b := a.flags(cmd)
	config.String(b, &file, config.Setting[string]{Flag: "file", Help: "read the pending transaction from this file instead of stdin"})
	chainIDs.add(b)
	password.add(b)
	return cmd
}

func runSign(ctx context.Context, a *app, file string, chainIDs chainIDFlags, pw *passwordFlags) error {
	var (
		raw []byte
		err error
		// stdin carries the transaction unless --file does: then it may carry the password.
		passwordIn io.Reader
	)
	if file != "" {
		raw, err = readLimited(file)
		passwordIn = a.stdin
	} else {
		raw, err = io.ReadAll(io.LimitReader(a.stdin, maxPendingTxBytes+1))
	}
	if err != nil {
		return fmt.Errorf("read pending transaction: %w", err)
	}
	if len(raw) > maxPendingTxBytes {
		return fmt.Errorf("pending transaction larger than %d bytes", maxPendingTxBytes)
	}
	tx, err := daemon.ParsePendingTx(raw)
	if err != nil {
		return fmt.Errorf("pending transaction: %w", err)
	}
	c, err := chains.Lookup(tx.Chain)
	if err != nil {
		return err
	}
	signer, ok := c.(chain.Signer)
	if !ok {
		return fmt.Errorf("%s: %w", c.Info().Code, daemon.ErrNoSigner)
	}
	extra, err := chainIDs.extraChainIDs(a.testnet)
	if err != nil {
		return err
	}
	store, err := pw.openStore(ctx, a, passwordIn)
	if err != nil {
		return err
	}
	defer store.Close()
	res := daemon.NewResolver(daemon.NewStoreKeys(store), a.testnet)
	defer res.Close()
	keys, err := res.Resolve(ctx, c, tx)
	if err != nil {
		return err
	}
	signed, err := signer.Sign(ctx, chain.SignRequest{Serialized: tx.SerializedTransaction, Testnet: a.testnet,
		Keys: keys, ExtraChainIDs: extra[c.Info().Code]})
	clear(keys)
	if err != nil {
		return err
	}
	return printJSON(a.stdout, signed)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPendingTxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, errors.New("file is empty")
	}
	return b, nil
}
