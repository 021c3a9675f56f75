package e2e

import (
	"context"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	bip39 "github.com/tyler-smith/go-bip39"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/devchain"
	"github.com/custoskms/custos/internal/e2e/tatumsdk"
	"github.com/custoskms/custos/internal/walletstore"
)

// sdkEVMChain is an EVM chain driven through Tatum's SDK: a ganache runs with
// one of the chain's testnet ids, so the server accepts the queued
// transaction as it would for the real testnet.
type sdkEVMChain struct {
	codec   *evm.Chain
	chainID uint64
	// gasKey names the gas limit in the chain's Tatum transaction: Tatum's
	// CELO signer (ethers) refuses "gas" and reads "gasLimit".
	gasKey string
	// hexAmounts writes value and gasPrice as 0x-hex: ethers, which Tatum's
	// CELO signer uses, refuses a decimal string.
	hexAmounts bool
	// notMined says why the chain's transaction, which the SDK signs, is
	// refused by the broadcast check and never mined ("" when it is mined).
	notMined string
}

// The seven EVM chains, each on a ganache of its own testnet chain id.
var sdkEVMChains = []sdkEVMChain{
	{codec: evm.ETH, chainID: 11155111},
	{codec: evm.BSC, chainID: 97},
	{codec: evm.MATIC, chainID: 80002},
	{codec: evm.CELO, chainID: 44787, gasKey: "gasLimit", hexAmounts: true,
		notMined: "Tatum's CELO signer writes the pre-L2 12-field Celo transaction, which no Celo node takes today and the broadcast check cannot decode"},
	{codec: evm.ONE, chainID: 1666700000},
	{codec: evm.KLAY, chainID: 1001},
	{codec: evm.XDC, chainID: 51},
}

// fundOn sends value from ganache's funded account 0 to addr on the node of
// the given chain id, and waits for it to be mined.
func fundOn(t *testing.T, node *ethclient.Client, id uint64, to common.Address, value *big.Int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := ganacheFunder(t)
	nonce, err := node.PendingNonceAt(ctx, crypto.PubkeyToAddress(key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(new(big.Int).SetUint64(id)),
		&types.LegacyTx{Nonce: nonce, GasPrice: gasPrice, Gas: 21000, To: &to, Value: value})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if r, err := devchain.WaitReceipt(ctx, node, tx.Hash()); err != nil || r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("funding %s: %v", to.Hex(), err)
	}
}

// evmAddress is the 20-byte account behind a chain's address string (XDC
// writes it with an "xdc" prefix).
func evmAddress(t *testing.T, addr string) common.Address {
	t.Helper()
	hexAddr := "0x" + strings.TrimPrefix(strings.TrimPrefix(addr, "0x"), "xdc")
	if !common.IsHexAddress(hexAddr) {
		t.Fatalf("address %q", addr)
	}
	return common.HexToAddress(hexAddr)
}

// TestTatumSDKSignsEVM is the conformance check of Tatum's signer: for each
// EVM chain, a transfer from a fresh address is queued through POST /v3/kms
// without a nonce (so the server fills nonce 0, which Tatum's SDK must not
// mistake for a missing one), and a second one on ETH with an explicit
// nonce; then Tatum's SDK v1, unmodified, does what Tatum KMS's daemon does
// against Custos: fetch pending, sign (calling Custos's transaction count
// route and web3 gateway for what it reads), broadcast through Custos. Each
// transaction must be mined on the chain's node and show its txId in Custos.
func TestTatumSDKSignsEVM(t *testing.T) {
	tatumsdk.Dir(t)
	var specs []broadcast.NodeSpec
	nodes := map[string]*ethclient.Client{}
	for _, c := range sdkEVMChains {
		// Each block is mined when a transaction arrives (eager instamine):
		// the harness broadcasts one transaction at a time, in nonce order,
		// so none arrives ahead of its predecessor, and under load no
		// transaction waits in the pool for a block time that slips.
		url := startGanacheChain(t, c.chainID, "--miner.blockTime", "0", "--miner.instamine", "eager")
		specs = append(specs, broadcast.NodeSpec{Chain: c.codec.Info().Code, Testnet: true, URL: url})
		n, err := ethclient.Dial(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		nodes[c.codec.Info().Code] = n
	}
	s := newNodesStack(t, true, specs)
	requireTatumRoutes(t, s)

	ent, err := bip39.NewEntropy(256)
	if err != nil {
		t.Fatal(err)
	}
	mnemonic, err := bip39.NewMnemonic(ent)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := chain.Seed(mnemonic)
	if err != nil {
		t.Fatal(err)
	}

	type queued struct {
		chain    sdkEVMChain
		id       string
		from, to common.Address
		value    *big.Int
		nonce    uint64
	}
	var all []queued
	var chains []string
	var wallets []tatumsdk.Wallet
	for _, c := range sdkEVMChains {
		code := c.codec.Info().Code
		addr, err := c.codec.AddressFromSeed(seed, 0, true)
		if err != nil {
			t.Fatal(err)
		}
		from := evmAddress(t, addr)
		fundOn(t, nodes[code], c.chainID, from, ether(1))
		sigID := walletstore.NewID()
		chains = append(chains, code)
		wallets = append(wallets, tatumsdk.Wallet{SignatureID: sigID, Chain: code, Mnemonic: mnemonic})

		nonces := []*uint64{nil} // the fresh address's first transfer: the server fills nonce 0
		if code == "ETH" {
			one := uint64(1)
			nonces = append(nonces, &one) // a complete transaction, nonce given as a JSON number
		}
		for i, n := range nonces {
			to := randomAddress(t)
			value := big.NewInt(1_000_000_000_000 + int64(i))
			m := map[string]any{"from": from.Hex(), "to": to.Hex(), "value": value.String(),
				"gasPrice": gasPrice.String(), "chainId": c.chainID}
			if c.hexAmounts {
				m["value"], m["gasPrice"] = hexutil.EncodeBig(value), hexutil.EncodeBig(gasPrice)
			}
			gasKey := c.gasKey
			if gasKey == "" {
				gasKey = "gas"
			}
			m[gasKey] = 21000
			if n != nil {
				m["nonce"] = *n
			}
			serialized, _ := json.Marshal(m)
			var out struct{ ID string }
			body := map[string]any{"chain": code, "serializedTransaction": string(serialized), "hashes": []string{sigID}, "index": 0}
			if code := s.apiDo(http.MethodPost, "/v3/kms", body, &out); code != http.StatusOK {
				t.Fatalf("POST /v3/kms %s: %d", serialized, code)
			}
			all = append(all, queued{chain: c, id: out.ID, from: from, to: to, value: value, nonce: uint64(i)})
		}
	}

	results := tatumsdk.Sign(t, s.srv.URL, s.apiKey, chains, wallets)

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	for _, q := range all {
		code := q.chain.codec.Info().Code
		r, ok := results[q.id]
		switch {
		case !ok:
			t.Errorf("%s %s: the harness did not receive it as pending", code, q.id)
			continue
		case !r.Signed:
			t.Errorf("%s %s: Tatum's SDK did not sign it: %s", code, q.id, r.Error)
			continue
		case q.chain.notMined != "":
			// The broadcast check cannot decode it, so it never reaches the node.
			if r.Broadcast || !strings.Contains(r.Error, "broadcast.mismatch") && !strings.Contains(r.Error, "validation.failed") {
				t.Errorf("%s %s: expected the broadcast check to refuse it (%s), got: %v %s", code, q.id, q.chain.notMined, r.Broadcast, r.Error)
			}
			continue
		case !r.Broadcast:
			t.Errorf("%s %s: broadcast through Custos failed: %s", code, q.id, r.Error)
			continue
		}
		got := s.get(q.id)
		if got.TxID == "" || !strings.EqualFold(got.TxID, r.TxID) {
			t.Errorf("%s %s: Custos shows txId %q, the broadcast answered %q", code, q.id, got.TxID, r.TxID)
			continue
		}
		node := nodes[code]
		rc, err := devchain.WaitReceipt(ctx, node, common.HexToHash(got.TxID))
		if err != nil {
			t.Errorf("%s %s: %v", code, got.TxID, err)
			continue
		}
		if rc.Status != types.ReceiptStatusSuccessful {
			t.Errorf("%s %s: reverted", code, got.TxID)
		}
		tx, _, err := node.TransactionByHash(ctx, rc.TxHash)
		if err != nil {
			t.Fatal(err)
		}
		if tx.Nonce() != q.nonce || *tx.To() != q.to || tx.Value().Cmp(q.value) != 0 || tx.ChainId().Uint64() != q.chain.chainID {
			t.Errorf("%s %s: mined nonce %d to %s value %s chain %s, queued nonce %d to %s value %s chain %d", code, got.TxID,
				tx.Nonce(), tx.To().Hex(), tx.Value(), tx.ChainId(), q.nonce, q.to.Hex(), q.value, q.chain.chainID)
		}
		if sender, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx); err != nil || sender != q.from {
			t.Errorf("%s %s: signed by %s (%v), the wallet is %s", code, got.TxID, sender.Hex(), err, q.from.Hex())
		}
	}
}

// requireTatumRoutes fails the test with the reason when the server lacks a
// route Tatum's SDK signers call: without the transaction count route and the
// web3 gateway no EVM transaction can be signed by the SDK.
func requireTatumRoutes(t *testing.T, s *stack) {
	t.Helper()
	var n json.Number
	if code := s.apiDo(http.MethodGet, "/v3/ethereum/transaction/count/0x0000000000000000000000000000000000000001", nil, &n); code != http.StatusOK {
		t.Errorf("GET /v3/ethereum/transaction/count/{address}: %d; Tatum's SDK reads a nonce given as 0 or missing there", code)
	}
	rpc := map[string]any{"jsonrpc": "2.0", "id": 1, "method": "net_version", "params": []any{}}
	if code := s.apiDo(http.MethodPost, "/v3/ethereum/web3/"+s.apiKey, rpc, nil); code != http.StatusOK {
		t.Errorf("POST /v3/ethereum/web3/{apiKey}: %d; web3's signTransaction asks the node for net_version there", code)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// sdkClientCall is one line of conformance/tatum/client.js's output.
type sdkClientCall struct {
	Call   string          `json:"call"`
	OK     bool            `json:"ok"`
	Value  json.RawMessage `json:"value"`
	Status int             `json:"status"`
	Error  json.RawMessage `json:"error"`
	Shape  []string        `json:"shape"`
}

// sdkKMSTx is the part of Tatum's TransactionKMS the test compares.
type sdkKMSTx struct {
	ID                    string   `json:"id"`
	SerializedTransaction string   `json:"serializedTransaction"`
	Hashes                []string `json:"hashes"`
	Index                 *int     `json:"index"`
	TxID                  string   `json:"txId"`
	Signatures            []struct {
		ID    string `json:"id"`
		Index int    `json:"index"`
	} `json:"signatures"`
}

// TestTatumSDKKMSClient runs the KMS client calls of Tatum's SDK v1, which an
// application uses to follow its transactions (getPendingTransactionsKMSByChain,
// getTransactionKMS, completePendingTransactionKMS, deleteTransactionKMS;
// Tatum's current SDK, v4, has none), unmodified, against the API: each must
// succeed, and each answer must have the types the SDK declares for it, with
// the values Custos stored.
func TestTatumSDKKMSClient(t *testing.T) {
	tatumsdk.Dir(t)
	s := newNodesStack(t, true, nil)
	w1, w2 := walletstore.NewID(), walletstore.NewID()
	queue := func(body map[string]any) (string, string) {
		t.Helper()
		serialized := tatumTx(randomAddress(t), big.NewInt(1), nil, uint64(len(body)), 21000)
		body["chain"], body["serializedTransaction"] = "ETH", serialized
		var out struct{ ID string }
		if code := s.apiDo(http.MethodPost, "/v3/kms", body, &out); code != http.StatusOK {
			t.Fatalf("POST /v3/kms: %d", code)
		}
		return out.ID, serialized
	}
	completed, completedTx := queue(map[string]any{"hashes": []string{w1}, "index": 0})
	left, _ := queue(map[string]any{"signatures": []map[string]any{{"id": w2, "index": 3}}})
	deleted, _ := queue(map[string]any{"hashes": []string{w1}})
	txID := "0x" + strings.Repeat("ab", 32)

	lines := tatumsdk.Run(t, s.srv.URL, s.apiKey, "client.js", map[string]any{"chain": "ETH", "signatureIds": []string{w1, w2},
		"complete": map[string]any{"id": completed, "txId": txID}, "delete": deleted})
	calls := map[string]sdkClientCall{}
	for _, l := range lines {
		var c sdkClientCall
		if err := json.Unmarshal(l, &c); err != nil {
			t.Fatal(err)
		}
		calls[c.Call] = c
		if !c.OK {
			t.Errorf("%s: status %d, error %s, not of the SDK's type: %v", c.Call, c.Status, c.Error, c.Shape)
		}
	}
	if len(calls) != 7 {
		t.Fatalf("client.js made %d calls, want 7", len(calls))
	}
	ids := func(call string) []string {
		var txs []sdkKMSTx
		if err := json.Unmarshal(calls[call].Value, &txs); err != nil {
			t.Fatalf("%s: %v", call, err)
		}
		var out []string
		for _, tx := range txs {
			out = append(out, tx.ID)
		}
		return out
	}
	one := func(call string) sdkKMSTx {
		var tx sdkKMSTx
		if err := json.Unmarshal(calls[call].Value, &tx); err != nil {
			t.Fatalf("%s: %v", call, err)
		}
		return tx
	}
	if got := ids("getPendingTransactionsKMSByChain"); !sameSet(got, []string{completed, left, deleted}) {
		t.Errorf("pending: %v, queued %v", got, []string{completed, left, deleted})
	}
	if got := one("getTransactionKMS"); got.ID != completed || got.SerializedTransaction != completedTx ||
		len(got.Hashes) != 1 || got.Hashes[0] != w1 || got.Index == nil || *got.Index != 0 || got.TxID != "" {
		t.Errorf("getTransactionKMS: %+v", got)
	}
	if got := one("getTransactionKMS completed"); got.TxID != txID {
		t.Errorf("after completePendingTransactionKMS the SDK reads txId %q, want %q", got.TxID, txID)
	}
	if got := s.get(completed).TxID; got != txID {
		t.Errorf("Custos shows txId %q, completed with %q", got, txID)
	}
	if c := calls["getTransactionKMS deleted"]; c.Status != http.StatusForbidden || !strings.Contains(string(c.Error), `"kms.tx.notFound"`) {
		t.Errorf("deleted transaction: status %d %s, want 403 kms.tx.notFound as Tatum answers", c.Status, c.Error)
	}
	var after []sdkKMSTx
	if err := json.Unmarshal(calls["getPendingTransactionsKMSByChain after"].Value, &after); err != nil {
		t.Fatal(err)
	}
	if len(after) != 1 || after[0].ID != left || len(after[0].Signatures) != 1 ||
		after[0].Signatures[0].ID != w2 || after[0].Signatures[0].Index != 3 {
		t.Errorf("pending after complete and delete: %+v, want only %s with its signature", after, left)
	}
}

// sameSet says whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		if seen[x]--; seen[x] < 0 {
			return false
		}
	}
	return true
}
