package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rlp"
	bip39 "github.com/tyler-smith/go-bip39"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/devchain"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/sqlite"
	"github.com/custoskms/custos/internal/walletstore"
)

// chainID is the dev chain's, which the ganache tests use too.
const chainID = devchain.ChainID

// gasPrice is well above both nodes' base fee, so every transaction is mined
// in the next block.
var gasPrice = big.NewInt(20_000_000_000)

// stack is one Custos installation wired to a chain node: the API on a real
// listener with its SQLite file, a testnet API key, a wallet store and the
// daemon's ledger path. Daemons are made per test step with newDaemon.
type stack struct {
	t      testing.TB
	node   *ethclient.Client
	nodeTx *ethclient.Client // the same node, for setup transactions signed in the test

	srv       *httptest.Server
	pstore    *sqlite.Store
	storePath string
	tenant    string
	apiKey    string

	wallets    *walletstore.Store
	keys       *daemon.StoreKeys
	ledgerPath string
}

func newStack(t testing.TB, nodeURL string) *stack {
	t.Helper()
	return newStackWith(t, nodeURL, nil)
}

// newStackWith is newStack with the API's Config adjusted by edit.
func newStackWith(t testing.TB, nodeURL string, edit func(*api.Config)) *stack {
	t.Helper()
	s := newNodesStackWith(t, true, []broadcast.NodeSpec{{Chain: "ETH", Testnet: true, URL: nodeURL}}, edit)
	var err error
	if s.node, err = ethclient.Dial(nodeURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.node.Close)
	s.nodeTx = s.node
	return s
}

// newNodesStack is a stack whose API broadcasts through the given nodes,
// without an Ethereum client of its own; its API key is of the testnet or
// of mainnet.
func newNodesStack(t testing.TB, testnet bool, specs []broadcast.NodeSpec) *stack {
	t.Helper()
	return newNodesStackWith(t, testnet, specs, nil)
}

// newNodesStackWith is newNodesStack with the API's Config adjusted by edit.
func newNodesStackWith(t testing.TB, testnet bool, specs []broadcast.NodeSpec, edit func(*api.Config)) *stack {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s := &stack{t: t, ledgerPath: filepath.Join(dir, "daemon-ledger.db"), storePath: filepath.Join(dir, "custos.db")}
	var err error
	if s.pstore, err = sqlite.Open(ctx, s.storePath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.pstore.Close() })
	secret, hash, err := api.NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.pstore.CreateKey(ctx, "e2e", testnet, pending.AllScopes, hash)
	if err != nil {
		t.Fatal(err)
	}
	s.tenant, s.apiKey = k.ID, secret
	nodes, err := broadcast.Dial(specs, chains.Dialer)
	if err != nil {
		t.Fatal(err)
	}
	// As `custos dev` does: the dev chain's id is an ETH testnet id for the
	// API's validation (the daemon gets it through its Config as well).
	cfg := api.Config{Store: s.pstore, Nodes: nodes, Logger: testLogger(t),
		ExtraChainIDs: map[bool]map[string][]uint64{true: {"ETH": {chainID}}}}
	if edit != nil {
		edit(&cfg)
	}
	s.srv = httptest.NewServer(api.New(cfg))
	t.Cleanup(s.srv.Close)

	// The wallet store's password cost is its default; it is opened once per test.
	if s.wallets, err = walletstore.Open(ctx, filepath.Join(dir, "wallet.dat"), []byte("e2e password"), walletstore.Options{Create: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.wallets.Close() })
	s.keys = daemon.NewStoreKeys(s.wallets)
	return s
}

// client is the daemon's real HTTP client of the stack's API.
func (s *stack) client() *daemon.Client {
	s.t.Helper()
	c, err := daemon.NewClient(s.srv.URL, s.apiKey)
	if err != nil {
		s.t.Fatal(err)
	}
	c.Backoff, c.Retries = 10*time.Millisecond, 2
	return c
}

// newDaemon opens a daemon on the stack's ledger; edit adjusts its Config. It
// is closed at the end of the test unless the caller closes it first.
func (s *stack) newDaemon(a daemon.API, edit func(*daemon.Config)) *daemon.Daemon {
	s.t.Helper()
	cfg := daemon.Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: s.ledgerPath,
		ExtraChainIDs: map[string][]uint64{"ETH": {chainID}}, Logger: testLogger(s.t)}
	if edit != nil {
		edit(&cfg)
	}
	d, err := daemon.New(cfg, a, s.keys)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { d.Close() })
	return d
}

// managed is a wallet in the store and the address that signs for it.
type managed struct {
	sigID string
	index *uint32 // mnemonic wallets: the index used
	addr  common.Address
	key   *ecdsa.PrivateKey // for assertions only; the daemon reads the store
}

// addPrivateKeyWallet stores a fresh ETH testnet private-key wallet, as
// storemanagedprivatekey ETH --testnet does.
func (s *stack) addPrivateKeyWallet() managed {
	s.t.Helper()
	pk, err := evm.ETH.GeneratePrivateKey(rand.Reader, true)
	if err != nil {
		s.t.Fatal(err)
	}
	addr, err := evm.ETH.AddressFromPrivateKey(pk, true)
	if err != nil {
		s.t.Fatal(err)
	}
	id := walletstore.NewID()
	if err := s.wallets.Put(context.Background(), id, &walletstore.Wallet{Chain: "ETH", Testnet: true, PrivateKey: pk, Address: addr}); err != nil {
		s.t.Fatal(err)
	}
	return managed{sigID: id, addr: common.HexToAddress(addr), key: ecdsaKey(s.t, pk)}
}

// addMnemonicWallet stores a fresh ETH testnet mnemonic wallet, as
// generatemanagedwallet ETH --testnet does, and returns its address at index.
func (s *stack) addMnemonicWallet(index uint32) managed {
	s.t.Helper()
	ent, err := bip39.NewEntropy(256)
	if err != nil {
		s.t.Fatal(err)
	}
	mn, err := bip39.NewMnemonic(ent)
	if err != nil {
		s.t.Fatal(err)
	}
	seed, err := chain.Seed(mn)
	if err != nil {
		s.t.Fatal(err)
	}
	xpub, err := evm.ETH.XPub(seed, true)
	if err != nil {
		s.t.Fatal(err)
	}
	addr, err := evm.ETH.AddressFromSeed(seed, index, true)
	if err != nil {
		s.t.Fatal(err)
	}
	pk, err := evm.ETH.PrivateKey(seed, index, true)
	if err != nil {
		s.t.Fatal(err)
	}
	id := walletstore.NewID()
	if err := s.wallets.Put(context.Background(), id, &walletstore.Wallet{Chain: "ETH", Testnet: true, Mnemonic: mn, XPub: xpub}); err != nil {
		s.t.Fatal(err)
	}
	return managed{sigID: id, index: &index, addr: common.HexToAddress(addr), key: ecdsaKey(s.t, pk)}
}

func ecdsaKey(t testing.TB, hexKey string) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.HexToECDSA(strings.TrimPrefix(hexKey, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// apiDo calls the stack's API and decodes a JSON answer into out (when not nil).
func (s *stack) apiDo(method, path string, body any, out any) int {
	s.t.Helper()
	code, err := s.tryDo(method, path, body, out)
	if err != nil {
		s.t.Fatal(err)
	}
	return code
}

// tryDo is apiDo for any goroutine: it returns what goes wrong.
func (s *stack) tryDo(method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-API-Key", s.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			return 0, fmt.Errorf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	if resp.StatusCode >= 300 {
		s.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, nil
}

// queue posts a transaction to POST /v3/kms for w: by hashes (+ index for a
// mnemonic wallet), or by signatures[] when bySignatures.
func (s *stack) queue(w managed, serialized string, bySignatures bool) string {
	s.t.Helper()
	body := map[string]any{"chain": "ETH", "serializedTransaction": serialized}
	switch {
	case bySignatures:
		body["signatures"] = []map[string]any{{"id": w.sigID, "index": *w.index}}
	default:
		body["hashes"] = []string{w.sigID}
		if w.index != nil {
			body["index"] = *w.index
		}
	}
	var out struct{ ID string }
	if code := s.apiDo(http.MethodPost, "/v3/kms", body, &out); code != http.StatusOK || len(out.ID) != 24 {
		s.t.Fatalf("POST /v3/kms: %d %+v", code, out)
	}
	return out.ID
}

// pendingTx is GET /v3/kms/{id}.
type pendingTx struct {
	ID    string `json:"id"`
	TxID  string `json:"txId"`
	Chain string `json:"chain"`
}

func (s *stack) get(id string) pendingTx {
	s.t.Helper()
	var out pendingTx
	if code := s.apiDo(http.MethodGet, "/v3/kms/"+id, nil, &out); code != http.StatusOK || out.ID != id {
		s.t.Fatalf("GET /v3/kms/%s: %d %+v", id, code, out)
	}
	return out
}

// tatumTx is a complete Tatum-format transaction (TransactionConfig JSON).
func tatumTx(to common.Address, value *big.Int, data []byte, nonce, gas uint64) string {
	m := map[string]any{"to": to.Hex(), "value": value.String(), "nonce": nonce, "gasLimit": gas,
		"gasPrice": gasPrice.String(), "chainId": chainID}
	if len(data) > 0 {
		m["data"] = "0x" + common.Bytes2Hex(data)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// tatumTx1559 is a Tatum-format EIP-1559 transaction.
func tatumTx1559(to common.Address, value *big.Int, data []byte, nonce, gas uint64) string {
	m := map[string]any{"to": to.Hex(), "value": value.String(), "nonce": nonce, "gasLimit": gas,
		"maxFeePerGas": gasPrice.String(), "maxPriorityFeePerGas": "1000000000", "chainId": chainID}
	if len(data) > 0 {
		m["data"] = "0x" + common.Bytes2Hex(data)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// nativeTx1559 is the native format: 0x-hex of the unsigned EIP-1559
// transaction, as ethers' unsignedSerialized writes it.
func nativeTx1559(t testing.TB, to common.Address, value *big.Int, nonce, gas uint64) string {
	t.Helper()
	tx := types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(chainID), Nonce: nonce, GasTipCap: big.NewInt(1_000_000_000),
		GasFeeCap: gasPrice, Gas: gas, To: &to, Value: value})
	// The signing payload of a typed transaction is exactly its unsigned form.
	enc, err := unsignedTyped(tx)
	if err != nil {
		t.Fatal(err)
	}
	return "0x" + common.Bytes2Hex(enc)
}

// sendDirect signs and sends a setup transaction with key (not through
// Custos) and waits for its receipt.
func (s *stack) sendDirect(key *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte, gas uint64) *types.Receipt {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := s.nodeTx.PendingNonceAt(ctx, from)
	if err != nil {
		s.t.Fatal(err)
	}
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(big.NewInt(chainID)), &types.LegacyTx{
		Nonce: nonce, GasPrice: gasPrice, Gas: gas, To: to, Value: value, Data: data})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.nodeTx.SendTransaction(ctx, tx); err != nil {
		s.t.Fatal(err)
	}
	r := s.receipt(ctx, tx.Hash())
	if r.Status != types.ReceiptStatusSuccessful {
		s.t.Fatalf("setup transaction %s failed", tx.Hash().Hex())
	}
	return r
}

func (s *stack) receipt(ctx context.Context, h common.Hash) *types.Receipt {
	s.t.Helper()
	r, err := devchain.WaitReceipt(ctx, s.node, h)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

func (s *stack) balance(a common.Address) *big.Int {
	s.t.Helper()
	b, err := s.node.BalanceAt(context.Background(), a, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// nonce is the account's mined transaction count.
func (s *stack) nonce(a common.Address) uint64 {
	s.t.Helper()
	n, err := s.node.NonceAt(context.Background(), a, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

func ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), devchain.Ether) }

func randomAddress(t testing.TB) common.Address {
	t.Helper()
	var a common.Address
	if _, err := rand.Read(a[:]); err != nil {
		t.Fatal(err)
	}
	return a
}

// unsignedTyped encodes an EIP-1559 transaction without its signature:
// 0x02 ‖ rlp([chainId, nonce, tip, feeCap, gas, to, value, data, accessList]).
func unsignedTyped(tx *types.Transaction) ([]byte, error) {
	b, err := rlp.EncodeToBytes([]any{tx.ChainId(), tx.Nonce(), tx.GasTipCap(), tx.GasFeeCap(), tx.Gas(),
		tx.To(), tx.Value(), tx.Data(), tx.AccessList()})
	if err != nil {
		return nil, err
	}
	return append([]byte{types.DynamicFeeTxType}, b...), nil
}

// logBuffer collects a test's logs and prints them only when it fails, so
// that nothing logs after the test has ended.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func testLogger(t testing.TB) *slog.Logger {
	lb := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			lb.mu.Lock()
			defer lb.mu.Unlock()
			t.Logf("logs:\n%s", lb.b.String())
		}
	})
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func (s *stack) addrOf(k *ecdsa.PrivateKey) common.Address {
	return crypto.PubkeyToAddress(k.PublicKey)
}
