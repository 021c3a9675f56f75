package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tyler-smith/go-bip39"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/secret"
	"github.com/custoskms/custos/internal/walletstore"
)

// passwordFlags choose where a key-management command gets the store password.
// Without any, it is CUSTOS_PASSWORD / TATUM_KMS_PASSWORD, else the terminal
// (no echo) or one line of stdin.
type passwordFlags struct {
	file                   string
	aws, azure, vgs, vault bool
}

func (f *passwordFlags) add(b *config.Binder) {
	config.String(b, &f.file, config.Setting[string]{Flag: "password-file", Help: "read the wallet store password from this file"})
	config.Bool(b, &f.aws, config.Setting[bool]{Flag: "aws", Help: "read the password from AWS Secrets Manager (TATUM_KMS_AWS_* variables)"})
	config.Bool(b, &f.azure, config.Setting[bool]{Flag: "azure", Help: "read the password from Azure Key Vault (TATUM_KMS_AZURE_* variables)"})
	config.Bool(b, &f.vgs, config.Setting[bool]{Flag: "vgs", Help: "read the password from a VGS vault alias (TATUM_KMS_VGS_* variables)"})
	config.Bool(b, &f.vault, config.Setting[bool]{Flag: "vault", Help: "read the password from HashiCorp Vault KV v2 (VAULT_ADDR, VAULT_TOKEN, CUSTOS_VAULT_PATH)"})
}

// options are the password source the flags choose, reading its variables
// from the app's environment and warning on its stderr.
func (f *passwordFlags) options(a *app, p *secret.Prompter) (secret.Options, error) {
	env := a.env
	o := secret.Options{PasswordFile: f.file, Prompter: p, Env: &env, Logger: newLogger(a.stderr)}
	n := 0
	for b, on := range map[secret.Backend]bool{secret.AWS: f.aws, secret.Azure: f.azure, secret.VGS: f.vgs, secret.Vault: f.vault} {
		if on {
			o.Backend = b
			n++
		}
	}
	if n > 1 || (n == 1 && f.file != "") {
		return o, errors.New("choose one password source: --aws, --azure, --vgs, --vault or --password-file")
	}
	return o, nil
}

// session is one command's access to secrets and the store.
type session struct {
	a      *app
	flags  *passwordFlags
	prompt *secret.Prompter
}

func newSession(a *app, f *passwordFlags) *session {
	return &session{a: a, flags: f, prompt: secret.NewPrompter(a.stdin, a.stderr)}
}

func (s *session) storeExists() bool {
	fi, err := os.Stat(s.a.walletPath)
	return err == nil && fi.Size() > 0
}

// password gets the store password; create says the command may create the store.
func (s *session) password(ctx context.Context, create bool) ([]byte, error) {
	o, err := s.flags.options(s.a, s.prompt)
	if err != nil {
		return nil, err
	}
	return o.Password(ctx, create && !s.storeExists())
}

// open unlocks the store with a password already read.
func (s *session) open(ctx context.Context, pw []byte, create bool) (*walletstore.Store, error) {
	return s.openWith(ctx, pw, walletstore.Options{Create: create})
}

// openWith is open with all of the store's options (BulkWrites for the
// commands that add wallets by the thousand).
func (s *session) openWith(ctx context.Context, pw []byte, opts walletstore.Options) (*walletstore.Store, error) {
	defer secret.Zero(pw)
	if opts.Logger == nil {
		opts.Logger = newLogger(s.a.stderr)
	}
	return walletstore.Open(ctx, s.a.walletPath, pw, opts)
}

// openStore reads the password and opens an existing store; a
// split-protected store asks for its shares instead.
func (s *session) openStore(ctx context.Context, cmd *cobra.Command) (*walletstore.Store, error) {
	if s.a.splitInfo(ctx) != nil {
		return openWithShares(ctx, cmd, s.a, s.prompt)
	}
	pw, err := s.password(ctx, false)
	if err != nil {
		return nil, err
	}
	return s.open(ctx, pw, false)
}

// deriverFor finds a chain by its Tatum code and its key derivation.
func deriverFor(code string) (chain.Chain, chain.Deriver, error) {
	c, err := chains.Lookup(code)
	if err != nil {
		return nil, nil, err
	}
	d, ok := c.(chain.Deriver)
	if !ok {
		return nil, nil, fmt.Errorf("chain %s: key derivation is not available in this build", c.Info().Code)
	}
	return c, d, nil
}

func newMnemonic() (string, error) {
	// 256 bits: Tatum generates 24-word mnemonics.
	ent, err := bip39.NewEntropy(256)
	if err != nil {
		return "", err
	}
	defer secret.Zero(ent)
	return bip39.NewMnemonic(ent)
}

// buildWallet makes the record Tatum KMS stores for a chain: from mnemonic
// when given, else from a fresh random mnemonic or keypair.
func buildWallet(c chain.Chain, d chain.Deriver, testnet bool, mnemonic string) (*walletstore.Wallet, error) {
	code := c.Info().Code
	w := &walletstore.Wallet{Chain: code, Testnet: testnet}
	if c.Info().Kind == chain.KeypairWallet {
		if mnemonic != "" {
			return nil, fmt.Errorf("%s wallets are single keypairs, not mnemonics: store the secret with storemanagedprivatekey", code)
		}
		key, err := d.GeneratePrivateKey(rand.Reader, testnet)
		if err != nil {
			return nil, fmt.Errorf("generate %s key: %w", code, err)
		}
		if w.Address, err = d.AddressFromPrivateKey(key, testnet); err != nil {
			return nil, fmt.Errorf("generate %s key: %w", code, err)
		}
		if c.Info().KeyField == chain.SecretField {
			w.Secret = key
		} else {
			w.PrivateKey = key
		}
		return w, nil
	}
	if mnemonic == "" {
		var err error
		if mnemonic, err = newMnemonic(); err != nil {
			return nil, err
		}
	}
	seed, err := chain.Seed(mnemonic)
	if err != nil {
		return nil, err
	}
	defer secret.Zero(seed)
	w.Mnemonic = strings.Join(strings.Fields(mnemonic), " ")
	if c.Info().Kind == chain.MnemonicKeyWallet {
		// Tatum's SOL wallet is index 0 of its mnemonic, kept with the mnemonic.
		if w.Address, err = d.AddressFromSeed(seed, 0, testnet); err != nil {
			return nil, err
		}
		if w.PrivateKey, err = d.PrivateKey(seed, 0, testnet); err != nil {
			return nil, err
		}
		return w, nil
	}
	w.XPub, err = d.XPub(seed, testnet)
	if errors.Is(err, chain.ErrNoXPub) {
		err = nil
	}
	return w, err
}

// parseIndex reads an address index argument: 0..2^31-1.
func parseIndex(s string) (uint32, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("index %q: must be a number in 0..%d", s, uint32(chain.MaxIndex))
	}
	return chain.CheckIndex(n)
}

// walletDeriver finds the derivation of a stored wallet's chain.
func walletDeriver(w *walletstore.Wallet) (chain.Deriver, error) {
	_, d, err := deriverFor(w.Chain)
	return d, err
}

// privateKeyOf is getprivatekey: derived at index for a mnemonic wallet, the
// stored key or secret otherwise (whatever the index).
func privateKeyOf(w *walletstore.Wallet, index uint32) (string, error) {
	if w.Remote != nil {
		return "", fmt.Errorf("the wallet's key is held in %s (key %s): there is no private key to show", w.Remote.Backend, w.Remote.KeyID)
	}
	if w.Mnemonic == "" {
		if w.PrivateKey != "" {
			return w.PrivateKey, nil
		}
		return w.Secret, nil
	}
	d, err := walletDeriver(w)
	if err != nil {
		return "", err
	}
	seed, err := chain.Seed(w.Mnemonic)
	if err != nil {
		return "", err
	}
	defer secret.Zero(seed)
	return d.PrivateKey(seed, index, w.Testnet)
}

// addressOf is getaddress: from the xpub or mnemonic at index, else the stored
// address, else the address of the stored private key.
func addressOf(w *walletstore.Wallet, index uint32) (string, error) {
	d, err := walletDeriver(w)
	if err != nil {
		return "", err
	}
	switch {
	case w.XPub != "":
		return d.AddressFromXPub(w.XPub, index, w.Testnet)
	case w.Mnemonic != "":
		seed, err := chain.Seed(w.Mnemonic)
		if err != nil {
			return "", err
		}
		defer secret.Zero(seed)
		return d.AddressFromSeed(seed, index, w.Testnet)
	case w.Address != "":
		return w.Address, nil
	case w.PrivateKey != "":
		return d.AddressFromPrivateKey(w.PrivateKey, w.Testnet)
	}
	return d.AddressFromPrivateKey(w.Secret, w.Testnet)
}
