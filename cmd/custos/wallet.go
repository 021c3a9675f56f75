package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/remotekey"
	"github.com/custoskms/custos/internal/secret"
	"github.com/custoskms/custos/internal/walletstore"
)

// generatedWallet is what generatewallet prints: the wallet without chain and network.
type generatedWallet struct {
	Mnemonic   string `json:"mnemonic,omitempty"`
	XPub       string `json:"xpub,omitempty"`
	Address    string `json:"address,omitempty"`
	Secret     string `json:"secret,omitempty"`
	PrivateKey string `json:"privateKey,omitempty"`
}

// stored is what the store commands print, as Tatum KMS does.
type stored struct {
	SignatureID string `json:"signatureId"`
	XPub        string `json:"xpub,omitempty"`
	Address     string `json:"address,omitempty"`
}

func newGenerateWalletCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "generatewallet CHAIN",
		Short: "Generate a wallet and print it (not stored)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, d, err := deriverFor(args[0])
			if err != nil {
				return err
			}
			w, err := buildWallet(c, d, a.testnet, "")
			if err != nil {
				return err
			}
			return printJSON(a.stdout, generatedWallet{w.Mnemonic, w.XPub, w.Address, w.Secret, w.PrivateKey})
		},
	}
}

// storeNew stores a wallet under a new signature ID and prints Tatum's answer.
func storeNew(cmd *cobra.Command, s *session, pw []byte, w *walletstore.Wallet) error {
	st, err := s.open(cmd.Context(), pw, true)
	if err != nil {
		return err
	}
	defer st.Close()
	id := walletstore.NewID()
	if err := st.Put(cmd.Context(), id, w); err != nil {
		return err
	}
	if err := s.a.recordAdded(cmd, []walletstore.Entry{{ID: id, Wallet: w}}, walletFields(w)); err != nil {
		return err
	}
	out := stored{SignatureID: id, XPub: w.XPub}
	if w.XPub == "" {
		out.Address = w.Address
	}
	return printJSON(s.a.stdout, out)
}

// passwordAnd reads the store password (which may create the store) and then
// the secret named label; on failure nothing read is left unzeroed.
func (s *session) passwordAnd(ctx context.Context, label string) (pw, sec []byte, err error) {
	pw, err = s.password(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	sec, err = s.prompt.Read(label)
	if err != nil {
		secret.Zero(pw)
		return nil, nil, err
	}
	return pw, sec, nil
}

func newGenerateManagedWalletCmd(a *app) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "generatemanagedwallet CHAIN",
		Short: "Generate a wallet and store it; prints its signature ID and xpub (or address)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, d, err := deriverFor(args[0])
			if err != nil {
				return err
			}
			w, err := buildWallet(c, d, a.testnet, "")
			if err != nil {
				return err
			}
			s := newSession(a, &pf)
			pw, err := s.password(cmd.Context(), true)
			if err != nil {
				return err
			}
			return storeNew(cmd, s, pw, w)
		},
	}
	pf.add(a.flags(cmd))
	return cmd
}

func newStoreManagedWalletCmd(a *app) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "storemanagedwallet CHAIN",
		Short: "Store a mnemonic (read from the terminal or stdin); prints its signature ID and xpub",
		Long: "Store a mnemonic wallet. The store password is read first (unless it comes from the\n" +
			"environment, a file or a secret manager), then the mnemonic: at a terminal without echo,\n" +
			"otherwise one line each from stdin.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, d, err := deriverFor(args[0])
			if err != nil {
				return err
			}
			if c.Info().Kind == chain.KeypairWallet {
				return fmt.Errorf("%s wallets are single keypairs, not mnemonics: store the secret with storemanagedprivatekey", c.Info().Code)
			}
			s := newSession(a, &pf)
			pw, m, err := s.passwordAnd(cmd.Context(), "mnemonic")
			if err != nil {
				return err
			}
			w, err := buildWallet(c, d, a.testnet, string(m))
			secret.Zero(m)
			if err != nil {
				secret.Zero(pw)
				return err
			}
			return storeNew(cmd, s, pw, w)
		},
	}
	pf.add(a.flags(cmd))
	return cmd
}

func newStoreManagedPrivateKeyCmd(a *app) *cobra.Command {
	var (
		pf  passwordFlags
		kms remotekey.Ref
	)
	cmd := &cobra.Command{
		Use:     "storemanagedprivatekey CHAIN",
		Aliases: []string{"storemanagedkey"},
		Short:   "Store a private key or secret (read from the terminal or stdin); prints its signature ID",
		Long: "Store a private key (or, for XLM and XRP, a secret) in the chain's usual form. It is\n" +
			"checked before it is stored. The store password is read first, then the key.\n\n" +
			"With --aws-kms KEY_ID no key is read: the wallet signs with that AWS KMS key\n" +
			"(ECC_SECG_P256K1, EVM chains), which never leaves KMS. The store records the key id,\n" +
			"region, endpoint and public key; AWS credentials come from the AWS SDK's usual\n" +
			"sources (environment, shared files, instance role) where the daemon runs.\n" +
			"Prints {\"signatureId\",\"address\"}.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, d, err := deriverFor(args[0])
			if err != nil {
				return err
			}
			s := newSession(a, &pf)
			if kms.KeyID != "" {
				return storeRemoteKey(cmd, s, c, kms)
			}
			pw, k, err := s.passwordAnd(cmd.Context(), "private key")
			if err != nil {
				return err
			}
			key := strings.TrimSpace(string(k))
			secret.Zero(k)
			if _, err := d.AddressFromPrivateKey(key, a.testnet); err != nil {
				secret.Zero(pw)
				return fmt.Errorf("%s private key: %w", c.Info().Code, chain.ErrInvalidKey)
			}
			return storeNew(cmd, s, pw, &walletstore.Wallet{PrivateKey: key, Chain: c.Info().Code, Testnet: a.testnet})
		},
	}
	pf.add(a.flags(cmd))
	cmd.Flags().StringVar(&kms.KeyID, "aws-kms", "", "register the AWS KMS key `KEY_ID` (id, ARN or alias/NAME) instead of reading a private key")
	cmd.Flags().StringVar(&kms.Region, "aws-region", "", "the KMS key's region (default: the AWS SDK's, e.g. AWS_REGION)")
	cmd.Flags().StringVar(&kms.Endpoint, "aws-endpoint", "", "a KMS endpoint `URL` in place of the region's (a VPC endpoint)")
	return cmd
}

// storeRemoteKey registers a key held outside Custos as a new wallet of c:
// its public key is read from the backend, before the password, so that a
// key that is not there or not a secp256k1 signing key stores nothing.
func storeRemoteKey(cmd *cobra.Command, s *session, c chain.Chain, ref remotekey.Ref) error {
	ext, ok := c.(chain.ExternalSigner)
	if !ok {
		return fmt.Errorf("%s cannot sign with a key held outside Custos", c.Info().Code)
	}
	ref.Backend = remotekey.AWSKMS
	ref, pub, err := remotekey.Register(cmd.Context(), ref)
	if err != nil {
		return err
	}
	pw, err := s.password(cmd.Context(), true)
	if err != nil {
		return err
	}
	return storeNew(cmd, s, pw, &walletstore.Wallet{Remote: &ref, Address: ext.AddressFromPublicKey(pub, s.a.testnet),
		Chain: c.Info().Code, Testnet: s.a.testnet})
}
