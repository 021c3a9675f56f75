package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/walletstore"
)

// Wallets are committed a chunk per transaction, and each line is printed
// only after its chunk is durable. The first chunk has firstChunk wallets, so
// that lines come soon; each next one is twice as large, up to maxChunk.
// Signature IDs are random and the store is keyed by them, so a chunk's
// inserts touch about every page of the table written so far: each of those
// pages goes to the rollback journal and back to the file once per commit.
// Growing chunks write the table a few times instead of once per 10,000
// wallets (at 100,000: 4 commits instead of 10, and about a third of the
// page writes).
const (
	firstChunk = 10_000
	maxChunk   = 40_000
	maxBatch   = 10_000_000
)

type batchLine struct {
	SignatureID string `json:"signatureId"`
	Address     string `json:"address"`
}

func newBatchCmd(a *app) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "generatemanagedprivatekeybatch CHAIN COUNT",
		Short: "Generate and store COUNT private keys; prints one {signatureId, address} line per key",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, d, err := deriverFor(args[0])
			if err != nil {
				return err
			}
			count, err := strconv.Atoi(args[1])
			if err != nil || count < 1 || count > maxBatch {
				return fmt.Errorf("COUNT %q: must be a number in 1..%d", args[1], maxBatch)
			}
			s := newSession(a, &pf)
			pw, err := s.password(cmd.Context(), true)
			if err != nil {
				return err
			}
			st, err := s.openWith(cmd.Context(), pw, walletstore.Options{Create: true, BulkWrites: true})
			if err != nil {
				return err
			}
			defer st.Close()

			var bar *progressbar.ProgressBar
			if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				bar = progressbar.NewOptions(count, progressbar.OptionSetWriter(f),
					progressbar.OptionSetDescription("storing keys"), progressbar.OptionShowCount(),
					progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
			}
			out := bufio.NewWriterSize(a.stdout, 1<<16)
			code := c.Info().Code
			// Keys for the next chunk are made while the current one is written.
			type chunk struct {
				entries []walletstore.Entry
				addrs   []string
				err     error
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			chunks := make(chan chunk, 1)
			go func() {
				defer close(chunks)
				for done, size := 0, firstChunk; done < count; size = min(2*size, maxChunk) {
					n := min(size, count-done)
					e, ad, err := generateKeys(d, code, a.testnet, n)
					select {
					case chunks <- chunk{e, ad, err}:
					case <-ctx.Done():
						return
					}
					if err != nil {
						return
					}
					done += n
				}
			}()
			for ch := range chunks {
				if ch.err != nil {
					return ch.err
				}
				if err := st.PutMany(cmd.Context(), ch.entries); err != nil {
					return err
				}
				if err := a.recordAdded(cmd, ch.entries, walletFields(ch.entries[0].Wallet)); err != nil {
					return err
				}
				for i, e := range ch.entries {
					if err := printJSON(out, batchLine{e.ID, ch.addrs[i]}); err != nil {
						return err
					}
				}
				if err := out.Flush(); err != nil {
					return err
				}
				if bar != nil {
					bar.Add(len(ch.entries))
				}
			}
			if bar != nil {
				bar.Finish()
			}
			return nil
		},
	}
	pf.add(a.flags(cmd))
	return cmd
}

// generateKeys makes n random keys and their addresses on all cores.
func generateKeys(d chain.Deriver, code string, testnet bool, n int) ([]walletstore.Entry, []string, error) {
	entries := make([]walletstore.Entry, n)
	addrs := make([]string, n)
	workers := runtime.GOMAXPROCS(0)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	keys := make([]string, n)
	batcher, _ := d.(chain.KeyBatchGenerator)
	// Each worker takes blocks of keyBlock keys; a chain that can make a block
	// at once (one inversion for all its public keys) does.
	const keyBlock = 256
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for lo := w * keyBlock; lo < n; lo += workers * keyBlock {
				hi := min(lo+keyBlock, n)
				var err error
				if batcher != nil {
					err = batcher.GenerateKeys(rand.Reader, testnet, keys[lo:hi], addrs[lo:hi])
				} else {
					for i := lo; i < hi && err == nil; i++ {
						if keys[i], err = d.GeneratePrivateKey(rand.Reader, testnet); err == nil {
							addrs[i], err = d.AddressFromPrivateKey(keys[i], testnet)
						}
					}
				}
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("generate %s key: %w", code, err) })
					return
				}
				for i := lo; i < hi; i++ {
					entries[i] = walletstore.Entry{ID: walletstore.NewID(),
						Wallet: &walletstore.Wallet{PrivateKey: keys[i], Chain: code, Testnet: testnet}}
				}
			}
		}(w)
	}
	wg.Wait()
	return entries, addrs, firstErr
}
