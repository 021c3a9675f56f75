package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/devchain"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/sqlite"
	"github.com/custoskms/custos/internal/secret"
	"github.com/custoskms/custos/internal/tracker"
	"github.com/custoskms/custos/internal/walletstore"
	"github.com/custoskms/custos/internal/webhook"
)

// devConfig is the configuration of `custos dev`.
type devConfig struct {
	listen   string
	rpcPort  int
	keep     bool
	period   time.Duration
	fund     int64
	verbose  bool
	password string
}

func (c *devConfig) add(b *config.Binder) {
	config.String(b, &c.listen, config.Setting[string]{Flag: "listen", Default: defaultListen, Help: "API address (port 0 picks a free one)"})
	config.Int(b, &c.rpcPort, config.Setting[int]{Flag: "rpc-port", Default: 8545, Help: "dev chain JSON-RPC port on 127.0.0.1 (0 picks a free one)"})
	config.Bool(b, &c.keep, config.Setting[bool]{Flag: "keep", Help: "keep the temporary directory on exit"})
	config.Duration(b, &c.period, config.Setting[time.Duration]{Flag: "period", Default: time.Second,
		Help: "signer period (plain numbers are seconds)", Check: positive})
	config.Int64(b, &c.fund, config.Setting[int64]{Flag: "fund", Default: 1000, Help: "ETH given to the wallet's index-0 address in genesis",
		Check: func(n int64) error {
			if n <= 0 {
				return errors.New("must be positive")
			}
			return nil
		}})
	config.Bool(b, &c.verbose, config.Setting[bool]{Flag: "verbose", Help: "log every request and signer run (unset: warnings only)"})
	config.String(b, &c.password, config.Setting[string]{Env: secret.PasswordEnv(), Secret: true})
}

// devInfo is the one JSON line `custos dev` prints on stdout when ready.
type devInfo struct {
	APIURL string                  `json:"apiUrl"`
	APIKey string                  `json:"apiKey"`
	Chains map[string]devChainInfo `json:"chains"`
}

type devChainInfo struct {
	RPCURL      string `json:"rpcUrl"`
	ChainID     uint64 `json:"chainId"`
	SignatureID string `json:"signatureId"`
	Address     string `json:"address"`
}

func newDevCmd(a *app) *cobra.Command {
	var c devConfig
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the API, the signer and an embedded ETH dev chain in one process, on temporary storage",
		Long: `Runs everything on loopback for trying Custos out: the pending-transaction API,
the signer daemon and an embedded Ethereum dev chain (chain id 1337, blocks
mined as soon as a transaction arrives). It creates a temporary data directory
with a wallet store holding one managed ETH testnet mnemonic wallet (its index-0
address funded in the dev chain's genesis) and a testnet API key.

When ready it prints one JSON line on stdout:
  {"apiUrl","apiKey","chains":{"ETH":{"rpcUrl","chainId","signatureId","address"}}}
and a walk-through with curl lines on stderr. Ctrl-C stops it and deletes the
temporary directory (unless --keep). CUSTOS_PASSWORD, when set, becomes the
wallet store's password (useful with --keep); otherwise a random one is used.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDev(cmd.Context(), a, &c) },
	}
	c.add(a.flags(cmd))
	return cmd
}

func runDev(ctx context.Context, a *app, c *devConfig) (err error) {
	level := slog.LevelWarn
	if c.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewJSONHandler(a.stderr, &slog.HandlerOptions{Level: level}))
	dir, err := os.MkdirTemp("", "custos-dev-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	defer func() {
		if c.keep {
			fmt.Fprintf(a.stderr, "kept %s\n", dir)
		} else if rmErr := os.RemoveAll(dir); rmErr != nil && err == nil {
			err = fmt.Errorf("removing %s: %w", dir, rmErr)
		}
	}()
	var rig devRig
	defer rig.close()
	info, to, err := rig.start(ctx, c, dir, log)
	if err != nil {
		return err
	}
	if err := printJSON(a.stdout, info); err != nil {
		return err
	}
	writeWalkthrough(a.stderr, info, to, dir, c.keep)
	select {
	case <-ctx.Done():
		fmt.Fprintln(a.stderr, "custos dev: stopping")
		return nil
	case err := <-rig.http.failed():
		return err
	case err := <-rig.errc:
		return err
	}
}

// devRig is what `custos dev` runs; close stops it in the reverse order of
// start, so the signer stops before the API it submits to.
type devRig struct {
	closers []func()
	http    *httpServer
	errc    chan error // the signer's end
}

func (r *devRig) onClose(f func()) { r.closers = append(r.closers, f) }

func (r *devRig) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}

// start creates the wallet, the dev chain, the API and the signer, and
// returns the ready line and the walk-through's payee.
func (r *devRig) start(ctx context.Context, c *devConfig, dir string, log *slog.Logger) (devInfo, string, error) {
	r.errc = make(chan error, 1)
	store, sigID, from, to, err := r.wallet(ctx, c, dir)
	if err != nil {
		return devInfo{}, "", err
	}
	// The chain, its id accepted for ETH testnet by the API's validation and
	// the signer alike (both are given it in their configuration).
	fund := new(big.Int).Mul(big.NewInt(c.fund), devchain.Ether)
	dc, err := devchain.Start(ctx, devchain.Options{Port: c.rpcPort, Logger: log,
		Alloc: map[common.Address]*big.Int{common.HexToAddress(from): fund}})
	if err != nil {
		return devInfo{}, "", err
	}
	r.onClose(func() { dc.Close() })
	apiURL, apiKey, err := r.api(ctx, c, dir, dc.URL(), log)
	if err != nil {
		return devInfo{}, "", err
	}
	if err := r.signer(ctx, c, dir, apiURL, apiKey, store, log); err != nil {
		return devInfo{}, "", err
	}
	return devInfo{APIURL: apiURL, APIKey: apiKey, Chains: map[string]devChainInfo{
		"ETH": {RPCURL: dc.URL(), ChainID: devchain.ChainID, SignatureID: sigID, Address: from}}}, to, nil
}

// wallet creates the store with one managed ETH testnet mnemonic wallet, as
// generatemanagedwallet ETH --testnet makes it, and returns its signature ID
// and its addresses at index 0 and 1.
func (r *devRig) wallet(ctx context.Context, c *devConfig, dir string) (store *walletstore.Store, sigID, from, to string, err error) {
	pw, err := devPassword(c.password)
	if err != nil {
		return nil, "", "", "", err
	}
	store, err = walletstore.Open(ctx, filepath.Join(dir, "wallet.dat"), pw, walletstore.Options{Create: true})
	secret.Zero(pw)
	if err != nil {
		return nil, "", "", "", err
	}
	r.onClose(func() { store.Close() })
	ch, d, err := deriverFor("ETH")
	if err != nil {
		return nil, "", "", "", err
	}
	w, err := buildWallet(ch, d, true, "")
	if err != nil {
		return nil, "", "", "", err
	}
	sigID = walletstore.NewID()
	if err := store.Put(ctx, sigID, w); err != nil {
		return nil, "", "", "", err
	}
	if from, err = addressOf(w, 0); err != nil {
		return nil, "", "", "", err
	}
	if to, err = addressOf(w, 1); err != nil {
		return nil, "", "", "", err
	}
	return store, sigID, from, to, nil
}

// api serves the API on its own SQLite file, with one testnet key, and
// returns its URL and the key.
func (r *devRig) api(ctx context.Context, c *devConfig, dir, rpcURL string, log *slog.Logger) (url, key string, err error) {
	nodes, err := broadcast.Dial([]broadcast.NodeSpec{{Chain: "ETH", Testnet: true, URL: rpcURL}}, chains.Dialer)
	if err != nil {
		return "", "", err
	}
	pstore, err := sqlite.Open(ctx, filepath.Join(dir, "custos.db"))
	if err != nil {
		return "", "", err
	}
	r.onClose(func() { pstore.Close() })
	key, hash, err := api.NewAPIKey()
	if err != nil {
		return "", "", err
	}
	if _, err := pstore.CreateKey(ctx, "dev", true, pending.AllScopes, hash); err != nil {
		return "", "", err
	}
	// The walk-through's receivers run on this machine.
	guard := webhook.Guard{AllowLoopback: true}
	h := api.New(api.Config{Store: pstore, Nodes: nodes, Logger: log,
		ExtraChainIDs: map[bool]map[string][]uint64{true: devChainIDs()}, Webhooks: guard})
	stopWebhooks := startWebhooks(ctx, webhook.Config{Guard: guard, Registry: h.Registry()}, pstore, log)
	r.onClose(stopWebhooks)
	stopTracker := startTracker(ctx, tracker.Config{Store: pstore, Nodes: nodes, Depth: allDepths(1), Registry: h.Registry()}, log)
	r.onClose(stopTracker)
	srv, err := startHTTP(c.listen, h, log)
	if err != nil {
		return "", "", err
	}
	r.http = srv
	r.onClose(func() { _ = srv.stop(ctx) })
	return "http://" + srv.addr.String(), key, nil
}

// signer runs the signer through the API, as a separate daemon would.
func (r *devRig) signer(ctx context.Context, c *devConfig, dir, apiURL, apiKey string, store *walletstore.Store, log *slog.Logger) error {
	client, err := daemon.NewClient(apiURL, apiKey)
	if err != nil {
		return err
	}
	client.Logger = log
	sd, err := daemon.New(daemon.Config{Chains: []string{"ETH"}, Testnet: true, Period: c.period,
		ExtraChainIDs: devChainIDs(),
		LedgerPath:    filepath.Join(dir, "daemon-ledger.db"), Logger: log}, client, daemon.NewStoreKeys(store))
	if err != nil {
		return err
	}
	r.onClose(func() { sd.Close() })
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sd.Run(runCtx); err != nil {
			r.errc <- fmt.Errorf("signer: %w", err)
		}
	}()
	r.onClose(func() {
		stop()
		<-done
	})
	return nil
}

// devPassword is the configured password (CUSTOS_PASSWORD) when set, else
// random: the temporary store is only ever opened by this process.
func devPassword(configured string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	pw := []byte(hex.EncodeToString(b))
	secret.Zero(b)
	return pw, nil
}

// devTransfer is the walk-through's transaction: 0.01 ETH in Tatum's format
// with only from, to and value. The server completes nonce, gas, gas price and
// chain id from the dev chain when it is queued.
func devTransfer(from, to string) string {
	b, _ := json.Marshal(map[string]any{"from": from, "to": to, "value": "10000000000000000"})
	return string(b)
}

// devQueueBody is the POST /v3/kms body of the walk-through.
func devQueueBody(info devInfo, to string) string {
	eth := info.Chains["ETH"]
	b, _ := json.Marshal(map[string]any{"chain": "ETH", "serializedTransaction": devTransfer(eth.Address, to),
		"hashes": []string{eth.SignatureID}, "index": 0})
	return string(b)
}

// writeWalkthrough prints the curl lines that move ETH on the dev chain. They
// carry the API key: it is a throwaway testnet key of a temporary store on
// loopback, already printed on stdout, and the lines are meant to be pasted.
func writeWalkthrough(w io.Writer, info devInfo, to, dir string, keep bool) {
	eth := info.Chains["ETH"]
	exit := "deletes " + dir
	if keep {
		exit = "keeps " + dir
	}
	balance := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["%s","latest"]}`, to)
	fmt.Fprintf(w, `
custos dev is ready (Ctrl-C stops it and %s).
  API         %s   (X-API-Key: %s, testnet)
  ETH node    %s   (chain id %d)
  wallet      signatureId %s, index 0 = %s (funded), index 1 = %s

1. Queue a transfer of 0.01 ETH from index 0 to index 1 (the server fills in nonce, gas, gas price and chain id from the dev chain):
curl -s -X POST %s/v3/kms -H 'X-API-Key: %s' -H 'Content-Type: application/json' -d '%s'

2. The signer signs and submits it within a second; its txId appears on the transaction (put the id from step 1 in place of ID):
curl -s %s/v3/kms/ID -H 'X-API-Key: %s'

3. The balance of index 1 on the dev chain (0x2386f26fc10000 wei = 0.01 ETH):
curl -s -X POST %s -H 'Content-Type: application/json' -d '%s'

`, exit, info.APIURL, info.APIKey, eth.RPCURL, eth.ChainID, eth.SignatureID, eth.Address, to,
		info.APIURL, info.APIKey, devQueueBody(info, to),
		info.APIURL, info.APIKey,
		eth.RPCURL, balance)
}

// devChainIDs are the extra chain ids `custos dev` accepts for ETH testnet:
// its dev chain's, given to the API and the signer alike.
func devChainIDs() map[string][]uint64 { return map[string][]uint64{"ETH": {devchain.ChainID}} }
