package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/harden"
	"github.com/custoskms/custos/internal/secret"
	"github.com/custoskms/custos/internal/unseal"
	"github.com/custoskms/custos/internal/walletstore"
)

// unsealSocket is the socket a sealed daemon listens on: in the data
// directory, beside the wallet file.
func (a *app) unsealSocket() string {
	return filepath.Join(filepath.Dir(a.walletPath), unseal.SocketName)
}

// splitInfo is the store's split, nil for a password store or one that
// cannot be read (opening it reports why).
func (a *app) splitInfo(ctx context.Context) *walletstore.SplitInfo {
	info, err := walletstore.Inspect(ctx, a.walletPath)
	if err != nil {
		return nil
	}
	return info.Split
}

// openWithShares unlocks a split-protected store at the CLI: the holders
// type (or pipe) their shares one per line until the threshold is reached.
// Each submission is audited as the daemon's socket does.
func openWithShares(ctx context.Context, cmd *cobra.Command, a *app, p *secret.Prompter) (*walletstore.Store, error) {
	sealed, err := walletstore.OpenSealed(ctx, a.walletPath, walletstore.Options{Logger: newLogger(a.stderr)})
	if err != nil {
		return nil, err
	}
	st := sealed.Status()
	for {
		sh, err := p.Read(fmt.Sprintf("share %d of %d (split %s)", st.Submitted+1, st.Threshold, st.ID))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", walletstore.ErrSplitProtected, err)
		}
		var store *walletstore.Store
		store, st, err = sealed.Submit(ctx, string(sh))
		secret.Zero(sh)
		outcome := "accepted"
		switch {
		case store != nil:
			outcome = "unsealed"
		case err != nil:
			outcome = err.Error()
		}
		if aerr := record(ctx, cmd, a.walletAuditLog(), audit.Event{Type: "unseal.share", Fields: map[string]any{
			"splitId": st.ID, "threshold": st.Threshold, "submitted": st.Submitted, "outcome": outcome}}); aerr != nil {
			if store != nil {
				store.Close()
			}
			return nil, fmt.Errorf("share submission not recorded in the audit log: %w", aerr)
		}
		if err != nil {
			return nil, err
		}
		if store != nil {
			return store, nil
		}
	}
}

func newSealCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "seal",
		Short: "Protect the wallet store with k-of-n shares instead of a password",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newSealSplitCmd(a))
	return cmd
}

// splitOutput is what `seal split` prints, once: the only copy of the shares.
type splitOutput struct {
	walletstore.SplitInfo
	Holders []splitHolder `json:"holders"`
}

type splitHolder struct {
	Index     int    `json:"index"`
	Share     string `json:"share,omitempty"`
	Recipient string `json:"recipient,omitempty"`
	Encrypted string `json:"encrypted,omitempty"` // ASCII-armored age file holding the share
}

func newSealSplitCmd(a *app) *cobra.Command {
	var (
		pf         passwordFlags
		n, k       int
		recipients []string
	)
	cmd := &cobra.Command{
		Use:   "split",
		Short: "Split the store's key-encryption key into --shares shares, any --threshold of which unlock it",
		Long: `Replaces the password protecting the data key by n shares of a fresh random
key-encryption key (Shamir's scheme over GF(256)): any k of them unlock the store,
k-1 reveal nothing. The data key and the wallet records are unchanged.

The shares are printed once, as one JSON object on stdout, and exist nowhere else:
hand each to its holder. With --age-recipient given n times, share i is encrypted
to the i-th recipient (an age public key) and only its ciphertext is printed.

The store is opened with its password, or, when it is already split, with k shares
of the current split read one per line (split again: the old shares stop working).
From then on the daemon starts sealed and waits for k holders to run 'custos
unseal'; the other commands ask for k shares instead of the password. Changing the
password (changepassword) undoes the split.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if k < 2 || k > n || n > 255 {
				return errors.New("need 2 ≤ --threshold ≤ --shares ≤ 255")
			}
			recs, err := parseRecipients(recipients, n)
			if err != nil {
				return err
			}
			st, err := newSession(a, &pf).openStore(ctx, cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			var info *walletstore.SplitInfo
			err = st.Split(ctx, n, k, func(si *walletstore.SplitInfo, shares []string) error {
				info = si
				out := splitOutput{SplitInfo: *si}
				for i, sh := range shares {
					h := splitHolder{Index: i + 1, Share: sh}
					if recs != nil {
						if h.Encrypted, err = encryptShare(sh, recs[i]); err != nil {
							return err
						}
						h.Share, h.Recipient = "", recipients[i]
					}
					out.Holders = append(out.Holders, h)
				}
				return printJSON(a.stdout, out)
			})
			if err != nil {
				return err
			}
			if err := record(ctx, cmd, a.walletAuditLog(), audit.Event{Type: "store.split", Fields: map[string]any{
				"splitId": info.ID, "threshold": info.Threshold, "shares": info.Shares, "encrypted": recs != nil}}); err != nil {
				return fmt.Errorf("store split but not recorded in the audit log: %w", err)
			}
			return nil
		},
	}
	b := a.flags(cmd)
	config.Int(b, &n, config.Setting[int]{Flag: "shares", Help: "number of shares n (2 to 255)"})
	config.Int(b, &k, config.Setting[int]{Flag: "threshold", Help: "shares needed to unlock, k (2 to n)"})
	config.StringArray(b, &recipients, config.Setting[[]string]{Flag: "age-recipient",
		Help: "age public key of a holder (repeat n times, in order): share i is printed encrypted to it"})
	pf.add(b)
	return cmd
}

// parseRecipients parses the holders' age keys: none, or exactly one per share.
func parseRecipients(rs []string, n int) ([]age.Recipient, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	if len(rs) != n {
		return nil, fmt.Errorf("--age-recipient given %d times: give it once per share (%d)", len(rs), n)
	}
	out := make([]age.Recipient, len(rs))
	for i, r := range rs {
		parsed, err := age.ParseRecipients(strings.NewReader(r))
		if err != nil || len(parsed) != 1 {
			return nil, fmt.Errorf("--age-recipient %q: not one age public key", r)
		}
		out[i] = parsed[0]
	}
	return out, nil
}

func encryptShare(share string, r age.Recipient) (string, error) {
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return "", err
	}
	if _, err := io.WriteString(w, share+"\n"); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if err := aw.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// readShare reads one share: from a file or stdin (a terminal prompt hides
// it); with an age identity file, the input is the encrypted share.
func readShare(a *app, file, identityFile string) ([]byte, error) {
	var in []byte
	var err error
	switch {
	case file != "":
		if err := harden.CheckSecretFile(file); err != nil {
			return nil, err
		}
		in, err = os.ReadFile(file)
	case identityFile != "":
		in, err = io.ReadAll(io.LimitReader(a.stdin, 64<<10))
	default:
		return secret.NewPrompter(a.stdin, a.stderr).Read("share")
	}
	if err != nil {
		return nil, err
	}
	if identityFile == "" {
		return bytes.TrimSpace(in), nil
	}
	if err := harden.CheckSecretFile(identityFile); err != nil {
		return nil, err
	}
	idf, err := os.Open(identityFile)
	if err != nil {
		return nil, err
	}
	defer idf.Close()
	ids, err := age.ParseIdentities(idf)
	if err != nil {
		return nil, fmt.Errorf("age identity file: %w", err)
	}
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(in)), ids...)
	if err != nil {
		return nil, fmt.Errorf("decrypt share: %w", err)
	}
	pt, err := io.ReadAll(io.LimitReader(r, 4<<10))
	if err != nil {
		return nil, fmt.Errorf("decrypt share: %w", err)
	}
	return bytes.TrimSpace(pt), nil
}

func newUnsealCmd(a *app) *cobra.Command {
	var (
		socket, file, identity string
		status                 bool
	)
	cmd := &cobra.Command{
		Use:   "unseal",
		Short: "Give one share to a sealed daemon (split-protected store)",
		Long: `Sends one share to the daemon waiting sealed on this data directory's unseal
socket and prints the sealing status (shares in, threshold, unsealed). Each holder
runs it once; the share that reaches the threshold unseals the daemon. Every
submission is recorded in the daemon's audit log.

The share is typed at the prompt (hidden), read as a line of stdin, or read from
--share-file; with --age-identity, the input is the share encrypted to the holder's
age key as 'custos seal split --age-recipient' printed it. --status only asks.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if socket == "" {
				socket = a.unsealSocket()
			}
			var share []byte
			if !status {
				var err error
				if share, err = readShare(a, file, identity); err != nil {
					return err
				}
				defer secret.Zero(share)
			}
			r, err := unseal.Send(cmd.Context(), socket, string(share))
			if err != nil {
				return err
			}
			if r.Error != "" {
				_ = printJSON(a.stdout, r.SealStatus)
				return errors.New(r.Error)
			}
			return printJSON(a.stdout, r.SealStatus)
		},
	}
	b := a.flags(cmd)
	config.String(b, &socket, config.Setting[string]{Flag: "socket", Help: "unseal socket (unset: unseal.sock beside the wallet file)"})
	config.String(b, &file, config.Setting[string]{Flag: "share-file", Help: "read the share from this file (0600)"})
	config.String(b, &identity, config.Setting[string]{Flag: "age-identity", Help: "age identity file decrypting an encrypted share"})
	config.Bool(b, &status, config.Setting[bool]{Flag: "status", Help: "only print the sealing status"})
	return cmd
}

// sealedKeys starts a split-protected store's daemon sealed: its key source
// is empty until k holders have given their shares on the unseal socket.
// stop closes the socket and the store once unsealed; unsealed is closed when
// the store opens.
func sealedKeys(ctx context.Context, a *app, log *slog.Logger, al *audit.Log) (keys *daemon.SealedKeys, unsealed <-chan struct{}, stop func(), err error) {
	sealed, err := walletstore.OpenSealed(ctx, a.walletPath, walletstore.Options{Logger: log})
	if err != nil {
		return nil, nil, nil, err
	}
	sock := a.unsealSocket()
	ln, err := unseal.Listen(sock)
	if err != nil {
		return nil, nil, nil, err
	}
	keys = &daemon.SealedKeys{}
	opened := make(chan struct{})
	var store *walletstore.Store
	srv := unseal.NewServer(sealed, al, log, func(s *walletstore.Store) {
		store = s
		keys.Unseal(daemon.NewStoreKeys(s))
		log.Info("wallet store unsealed: signing resumes")
		close(opened)
	})
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(sctx, ln); err != nil {
			log.Error("unseal socket stopped", "err", err)
		}
	}()
	st := sealed.Status()
	log.Warn("wallet store is sealed: nothing is signed until enough holders run 'custos unseal'",
		"socket", sock, "split_id", st.ID, "threshold", st.Threshold, "shares", st.Shares)
	return keys, opened, func() {
		cancel()
		<-done
		os.Remove(sock)
		if store != nil {
			store.Close()
		}
	}, nil
}
