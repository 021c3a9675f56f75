package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/policy"
)

// exitRefused is `policy test`'s exit code for a refused transaction.
const exitRefused = 3

func newPolicyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check a signing policy file, or see its decision on a transaction",
		Long:  "The signing policy of `custos daemon --policy FILE` (docs/policy.md).",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Validate a policy file and print a summary of its rules",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			p, err := loadPolicy(args[0])
			if err != nil {
				return err
			}
			return printJSON(a.stdout, p.Summary())
		},
	})
	cmd.AddCommand(newPolicyTestCmd(a))
	return cmd
}

// loadPolicy reads a policy file and checks that the chains it names exist.
func loadPolicy(path string) (*policy.Policy, error) {
	p, err := policy.Load(path)
	if err != nil {
		return nil, err
	}
	for _, code := range p.Chains() {
		if _, err := chains.Lookup(code); err != nil {
			return nil, fmt.Errorf("%w: match.chains: %w", policy.ErrInvalid, err)
		}
	}
	return p, nil
}

func newPolicyTestCmd(a *app) *cobra.Command {
	var (
		intentFile string
		wallets    string
		indexes    string
		chainIDs   chainIDFlags
	)
	cmd := &cobra.Command{
		Use:   "test FILE [TX]",
		Short: "Print the policy's decision on a pending transaction (TX, as GET /v3/kms/{id} serves it) or an intent",
		Long: `Decodes TX, a pending transaction JSON file, with its chain's codec (of the --testnet
network) and prints the policy's decision and the deciding rule as JSON. With --intent FILE it
decides on an intent JSON instead (for chains whose codec decodes none), with --wallets and
--indexes standing for the transaction's. Daily limits are checked against this one
transaction: no history is counted. Exit code 0: allowed, 3: refused.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			p, err := loadPolicy(args[0])
			if err != nil {
				return err
			}
			var s daemon.Subject
			switch {
			case len(args) == 2 && intentFile == "":
				if s, err = decodeSubject(args[1], a.testnet, chainIDs); err != nil {
					return err
				}
			case len(args) == 1 && intentFile != "":
				if s, err = intentSubject(intentFile, wallets, indexes); err != nil {
					return err
				}
			default:
				return errors.New("give either TX or --intent FILE")
			}
			d := p.Evaluate(daemon.PolicyInput(s))
			if err := printJSON(a.stdout, d); err != nil {
				return err
			}
			if !d.Allow {
				return exitError{errors.New(d.Reason), exitRefused}
			}
			return nil
		},
	}
	b := a.flags(cmd)
	config.String(b, &intentFile, config.Setting[string]{Flag: "intent", Help: "decide on this intent JSON instead of a pending transaction"})
	config.String(b, &wallets, config.Setting[string]{Flag: "wallets", Help: "with --intent: the signature ids the transaction names, comma-separated"})
	config.String(b, &indexes, config.Setting[string]{Flag: "indexes", Help: "with --intent: the derivation indexes of its keys, comma-separated"})
	chainIDs.add(b)
	return cmd
}

// decodeSubject reads a pending transaction and decodes its intent.
func decodeSubject(path string, testnet bool, chainIDs chainIDFlags) (daemon.Subject, error) {
	raw, err := readLimited(path)
	if err != nil {
		return daemon.Subject{}, fmt.Errorf("read pending transaction: %w", err)
	}
	tx, err := daemon.ParsePendingTx(raw)
	if err != nil {
		return daemon.Subject{}, fmt.Errorf("pending transaction: %w", err)
	}
	c, err := chains.Lookup(tx.Chain)
	if err != nil {
		return daemon.Subject{}, err
	}
	extra, err := chainIDs.extraChainIDs(testnet)
	if err != nil {
		return daemon.Subject{}, err
	}
	s := daemon.Subject{Tx: tx}
	if tx.Index != nil {
		s.Indexes = append(s.Indexes, *tx.Index)
	}
	for _, sig := range tx.Signatures {
		if sig.Index != nil {
			s.Indexes = append(s.Indexes, *sig.Index)
		}
	}
	in, ok := c.(chain.Intender)
	if !ok {
		return daemon.Subject{}, fmt.Errorf("the %s codec decodes no intent: give the intent with --intent FILE", c.Info().Code)
	}
	if s.Intent, err = in.Intent(tx.SerializedTransaction, testnet, extra[c.Info().Code]...); err != nil {
		return daemon.Subject{}, fmt.Errorf("decode: %w", err)
	}
	s.Decoded = true
	return s, nil
}

// intentSubject reads an intent JSON and stands the flags in for the transaction.
func intentSubject(path, wallets, indexes string) (daemon.Subject, error) {
	raw, err := readLimited(path)
	if err != nil {
		return daemon.Subject{}, fmt.Errorf("read intent: %w", err)
	}
	s := daemon.Subject{Decoded: true, Tx: daemon.PendingTx{Hashes: splitList(wallets)}}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s.Intent); err != nil {
		return daemon.Subject{}, fmt.Errorf("intent: %w", err)
	}
	for _, v := range splitList(indexes) {
		i, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return daemon.Subject{}, fmt.Errorf("--indexes: %q is not a derivation index", v)
		}
		s.Indexes = append(s.Indexes, uint32(i))
	}
	return s, nil
}
