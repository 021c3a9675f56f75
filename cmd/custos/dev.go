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
	"net"
	"net/http"
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
	"github.com/custoskms/custos/internal/pending/sqlite"
	"github.com/custoskms/custos/internal/secret"
	"github.com/custoskms/custos/internal/walletstore"
)

func init() { register(newDevCmd) }

type devFlags struct {
	listen  string
	rpcPort int
	keep    bool
	period  time.Duration
	fund    int64
	verbose bool
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
	var f devFlags
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
		RunE: func(cmd *cobra.Command, _ []string) error { return runDev(cmd.Context(), a, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8700", "API address (port 0 picks a free one)")
	fl.IntVar(&f.rpcPort, "rpc-port", 8545, "dev chain JSON-RPC port on 127.0.0.1 (0 picks a free one)")
	fl.BoolVar(&f.keep, "keep", false, "keep the temporary directory on exit")
	fl.DurationVar(&f.period, "period", time.Second, "signer period")
	fl.Int64Var(&f.fund, "fund", 1000, "ETH given to the wallet's index-0 address in genesis")
	fl.BoolVar(&f.verbose, "verbose", false, "log every request and signer run (default: warnings only)")
	return cmd
}

func runDev(ctx context.Context, a *app, f *devFlags) (err error) {
	if f.period <= 0 {
		return errors.New("--period must be positive")
	}
	if f.fund <= 0 {
		return errors.New("--fund must be positive")
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewJSONHandler(a.stderr, &slog.HandlerOptions{Level: level}))

	dir, err := os.MkdirTemp("", "custos-dev-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	defer func() {
		if f.keep {
			fmt.Fprintf(a.stderr, "kept %s\n", dir)
			return
		}
		if rmErr := os.RemoveAll(dir); rmErr != nil && err == nil {
			err = fmt.Errorf("removing %s: %w", dir, rmErr)
		}
	}()

	// The wallet: one managed ETH testnet mnemonic wallet, as
	// generatemanagedwallet ETH --testnet makes it.
	pw, err := devPassword()
	if err != nil {
		return err
	}
	store, err := walletstore.Open(ctx, filepath.Join(dir, "wallet.dat"), pw, walletstore.Options{Create: true})
	secret.Zero(pw)
	if err != nil {
		return err
	}
	defer store.Close()
	c, d, err := deriverFor("ETH")
	if err != nil {
		return err
	}
	w, err := buildWallet(c, d, true, "")
	if err != nil {
		return err
	}
	sigID := walletstore.NewID()
	if err := store.Put(ctx, sigID, w); err != nil {
		return err
	}
	from, err := addressOf(w, 0)
	if err != nil {
		return err
	}
	to, err := addressOf(w, 1)
	if err != nil {
		return err
	}

	// The chain, its id accepted for ETH testnet by the API's validation and
	// the signer alike (both are given it in their configuration).
	fund := new(big.Int).Mul(big.NewInt(f.fund), devchain.Ether)
	dc, err := devchain.Start(ctx, devchain.Options{Port: f.rpcPort, Logger: log,
		Alloc: map[common.Address]*big.Int{common.HexToAddress(from): fund}})
	if err != nil {
		return err
	}
	defer dc.Close()
	devIDs := map[string][]uint64{"ETH": {devchain.ChainID}}
	nodes, err := broadcast.Dial([]broadcast.NodeSpec{{Chain: "ETH", Testnet: true, URL: dc.URL()}}, chains.Dialer)
	if err != nil {
		return err
	}

	// The API on its own SQLite file, with one testnet key.
	pstore, err := sqlite.Open(ctx, filepath.Join(dir, "custos.db"))
	if err != nil {
		return err
	}
	defer pstore.Close()
	apiKey, hash, err := api.NewAPIKey()
	if err != nil {
		return err
	}
	if _, err := pstore.CreateKey(ctx, "dev", true, hash); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           api.New(api.Config{Store: pstore, Nodes: nodes, Logger: log, ExtraChainIDs: map[bool]map[string][]uint64{true: devIDs}}),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 2)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve: %w", err)
		}
	}()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	apiURL := "http://" + ln.Addr().String()

	// The signer, through the API like a separate daemon would be.
	client, err := daemon.NewClient(apiURL, apiKey)
	if err != nil {
		return err
	}
	client.Logger = log
	sd, err := daemon.New(daemon.Config{Chains: []string{"ETH"}, Testnet: true, Period: f.period,
		ExtraChainIDs: devIDs,
		LedgerPath:    filepath.Join(dir, "daemon-ledger.db"), Logger: log}, client, daemon.NewStoreKeys(store))
	if err != nil {
		return err
	}
	defer sd.Close()
	runCtx, stopSigner := context.WithCancel(ctx)
	signerDone := make(chan struct{})
	go func() {
		defer close(signerDone)
		if err := sd.Run(runCtx); err != nil {
			errc <- fmt.Errorf("signer: %w", err)
		}
	}()
	// The signer stops first, so that nothing it submits meets a closed API.
	defer func() {
		stopSigner()
		<-signerDone
	}()

	info := devInfo{APIURL: apiURL, APIKey: apiKey, Chains: map[string]devChainInfo{
		"ETH": {RPCURL: dc.URL(), ChainID: devchain.ChainID, SignatureID: sigID, Address: from}}}
	if err := printJSON(a.stdout, info); err != nil {
		return err
	}
	writeWalkthrough(a.stderr, info, to, dir, f.keep)

	select {
	case <-ctx.Done():
		fmt.Fprintln(a.stderr, "custos dev: stopping")
		return nil
	case err := <-errc:
		return err
	}
}

// devPassword is CUSTOS_PASSWORD when set, else random: the temporary store
// is only ever opened by this process.
func devPassword() ([]byte, error) {
	if v, ok := config.Getenv("CUSTOS_PASSWORD"); ok && v != "" {
		return []byte(v), nil
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
