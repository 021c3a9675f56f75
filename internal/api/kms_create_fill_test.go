package api

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/devchain"
	"github.com/custoskms/custos/internal/pending"
)

// The `abandon … about` mnemonic's ETH testnet key at index 0 (shared
// vectors), funded on the dev chain, and an unfunded recipient.
const (
	fillKey       = "0xe01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc"
	fillFrom      = "0xb157e208264ff9edebbcb1d36e66d156df8afa6c"
	fillRecipient = "0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6"
)

// fillEnv is a server with the real chain codecs and the dev chain as the
// ETH testnet node, reached over HTTP like any configured node.
func fillEnv(t *testing.T) (*env, *devchain.Chain, *broadcast.EVMClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	dc, err := devchain.Start(ctx, devchain.Options{
		Alloc: map[common.Address]*big.Int{common.HexToAddress(fillFrom): new(big.Int).Mul(big.NewInt(100), devchain.Ether)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	node, err := broadcast.DialEVM(dc.URL())
	if err != nil {
		t.Fatal(err)
	}
	// The dev chain's id is accepted for ETH testnet keys, as `custos serve
	// --chain-id ETH:testnet=1337` configures it.
	e := newEnv(t, func(c *Config) {
		c.ExtraChainIDs = map[bool]map[string][]uint64{true: {"ETH": {devchain.ChainID}}}
	})
	e.srv.lookupChain = chains.Lookup
	e.nodes.Set("ETH", true, node)
	return e, dc, node
}

func (e *env) queue(key, serialized string) resp {
	e.t.Helper()
	return e.do("POST", "/v3/kms", key, map[string]any{"chain": "ETH", "serializedTransaction": serialized, "hashes": []string{sigA}})
}

// stored is the serializedTransaction kept for a created transaction.
func (e *env) stored(key string, r resp) string {
	e.t.Helper()
	var out struct{ ID string }
	r.want(e.t, 200, &out)
	var tx pending.Tx
	e.do("GET", "/v3/kms/"+out.ID, key, nil).want(e.t, 200, &tx)
	return tx.SerializedTransaction
}

func TestCreateCompletesFromTheNode(t *testing.T) {
	e, dc, node := fillEnv(t)
	ctx := t.Context()
	sign := func(ser string) chain.Signed {
		t.Helper()
		s, err := evm.ETH.Sign(ctx, chain.SignRequest{Serialized: ser, Testnet: true, Keys: []string{fillKey},
			ExtraChainIDs: []uint64{devchain.ChainID}})
		if err != nil {
			t.Fatalf("signing the stored transaction: %v", err)
		}
		return s
	}
	// One mined transaction first, so that a filled nonce is visibly the node's.
	first := sign(`{"to":"` + fillRecipient + `","value":"1","nonce":0,"gas":21000,"gasPrice":"20000000000","chainId":1337}`)
	if _, err := node.Broadcast(ctx, first.TxData); err != nil {
		t.Fatal(err)
	}
	if _, err := devchain.WaitReceipt(ctx, dc.Client(), common.HexToHash(first.TxID)); err != nil {
		t.Fatal(err)
	}
	// The node's suggestion follows the base fee, which moves with every
	// sealed block: the filled price must be what the node suggested at some
	// moment of the request, so it lies between the suggestions read just
	// before and just after it.
	suggest := func() *big.Int {
		t.Helper()
		p, err := node.SuggestGasPrice(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	before := suggest()

	// Legacy Tatum JSON without nonce, gas, gas price or chain id.
	ser := e.stored(e.keyTest, e.queue(e.keyTest, `{"to":"`+fillRecipient+`","value":"1000000000000000","from":"`+fillFrom+`"}`))
	after := suggest()
	lo, hi := before, after
	if lo.Cmp(hi) > 0 {
		lo, hi = hi, lo
	}
	tx, err := evm.ETH.ParseTx(ser)
	if err != nil || len(tx.Missing()) != 0 {
		t.Fatalf("stored %s: %v, missing %v", ser, err, tx.Missing())
	}
	if *tx.Nonce != 1 || tx.ChainID.Uint64() != devchain.ChainID || *tx.Gas != 21000 || tx.GasPrice.Cmp(lo) < 0 || tx.GasPrice.Cmp(hi) > 0 || tx.Value.String() != "1000000000000000" {
		t.Fatalf("completed with nonce %d chainId %s gas %d gasPrice %s (node suggested %s before, %s after)", *tx.Nonce, tx.ChainID, *tx.Gas, tx.GasPrice, before, after)
	}
	// What was stored is signable offline and accepted by the chain.
	id := createdID(t, e, ser)
	signed := sign(ser)
	var out broadcastResponse
	e.do("POST", "/v3/ethereum/broadcast", e.keyTest, `{"txData":"`+signed.TxData+`","signatureId":"`+id+`"}`).want(t, 200, &out)
	rc, err := devchain.WaitReceipt(ctx, dc.Client(), common.HexToHash(out.TxID))
	if err != nil || rc.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("receipt %+v, %v", rc, err)
	}

	// EIP-1559 fee caps are kept exactly; the nonce follows the mined transfer.
	ser = e.stored(e.keyTest, e.queue(e.keyTest, `{"to":"`+fillRecipient+`","value":"5","from":"`+fillFrom+
		`","maxFeePerGas":"30000000001","maxPriorityFeePerGas":"1000000001"}`))
	tx, err = evm.ETH.ParseTx(ser)
	if err != nil || len(tx.Missing()) != 0 || tx.Type != evm.TypeDynamicFee || *tx.Nonce != 2 ||
		tx.GasFeeCap.String() != "30000000001" || tx.GasTipCap.String() != "1000000001" || tx.GasPrice != nil {
		t.Fatalf("EIP-1559 stored %s: %v", ser, err)
	}

	// A given nonce is kept, 0 included, even without from; only the rest is filled.
	ser = e.stored(e.keyTest, e.queue(e.keyTest, `{"to":"`+fillRecipient+`","value":"0","nonce":0}`))
	if tx, err = evm.ETH.ParseTx(ser); err != nil || len(tx.Missing()) != 0 || *tx.Nonce != 0 {
		t.Fatalf("nonce 0 stored as %s: %v", ser, err)
	}

	// A complete transaction is stored byte for byte as given.
	complete := `{"to":"` + fillRecipient + `", "value":"9","nonce":7,"gas":21000,"gasPrice":"1","chainId":1337}`
	if got := e.stored(e.keyTest, e.queue(e.keyTest, complete)); got != complete {
		t.Fatalf("complete transaction stored as %s", got)
	}

	m := string(e.do("GET", "/metrics", e.keyA, nil).body)
	if !strings.Contains(m, `custos_completions_total{chain="ETH",result="ok"} 3`) {
		t.Fatalf("completion metric missing:\n%s", m)
	}
}

func createdID(t *testing.T, e *env, serialized string) string {
	t.Helper()
	txs, err := e.store.Pending(t.Context(), pending.PendingQuery{Tenant: keyIDOf(t, e, e.keyTest), Chain: "ETH"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range txs {
		if tx.SerializedTransaction == serialized {
			return tx.ID
		}
	}
	t.Fatalf("no pending transaction %s", serialized)
	return ""
}

func keyIDOf(t *testing.T, e *env, secret string) string {
	t.Helper()
	k, err := e.store.KeyByHash(t.Context(), HashKey(secret))
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}

func TestCreateRefusesWhatCannotBeCompleted(t *testing.T) {
	e, _, _ := fillEnv(t)
	data := func(r resp) string {
		t.Helper()
		return strings.Join(r.wantError(t, 400, CodeValidation).Data, "\n")
	}
	for name, c := range map[string]struct{ ser, want string }{
		// No signer can invent a nonce, and the server knows no sender to ask for.
		"nonce without from": {`{"to":"` + fillRecipient + `","value":"1","gas":21000}`,
			"nonce is missing and the sender is unknown: give nonce, or from"},
		"one fee cap only": {`{"to":"` + fillRecipient + `","value":"1","from":"` + fillFrom + `","maxFeePerGas":"1"}`,
			"give both maxFeePerGas and maxPriorityFeePerGas"},
		// Sepolia is an ETH testnet, but not the network the configured node serves.
		"other testnet": {`{"to":"` + fillRecipient + `","value":"1","from":"` + fillFrom + `","chainId":11155111}`,
			"the node serves chain id 1337, the transaction is for 11155111"},
		// The node refuses to estimate a transfer its sender cannot pay.
		"unfunded sender": {`{"to":"` + fillFrom + `","value":"1000","from":"` + fillRecipient + `"}`,
			"the ETH testnet node cannot complete it: node eth_estimateGas: node rejected the transaction: failed with"},
	} {
		if got := data(e.queue(e.keyTest, c.ser)); !strings.Contains(got, c.want) {
			t.Errorf("%s: data %q, want %q", name, got, c.want)
		}
	}

	// No ETH mainnet node: an incomplete transaction is refused naming what
	// is missing and how to configure the node; a complete one is stored.
	got := data(e.queue(e.keyA, `{"to":"`+fillRecipient+`","value":"1","nonce":3}`))
	if !strings.Contains(got, "serializedTransaction: missing gas, gasPrice, chainId: ") || !strings.Contains(got, "--node ETH=URL") {
		t.Fatalf("no node: %q", got)
	}
	complete := `{"to":"` + fillRecipient + `","value":"1","nonce":3,"gas":21000,"gasPrice":"1","chainId":1}`
	if s := e.stored(e.keyA, e.queue(e.keyA, complete)); s != complete {
		t.Fatalf("stored %s", s)
	}
	native := nativeLegacy(t)
	if s := e.stored(e.keyA, e.queue(e.keyA, native)); s != native {
		t.Fatalf("native stored %s", s)
	}
	if n, _ := e.store.Pending(t.Context(), pending.PendingQuery{Tenant: keyIDOf(t, e, e.keyTest), Chain: "ETH"}); len(n) != 0 {
		t.Fatalf("refused transactions were stored: %+v", n)
	}
}

// nativeLegacy is an unsigned EIP-155 legacy transaction for chain id 1, as
// ethers' unsignedSerialized: [nonce, gasPrice, gas, to, value, data, chainId, 0, 0].
func nativeLegacy(t *testing.T) string {
	t.Helper()
	to := common.HexToAddress(fillRecipient)
	b, err := rlp.EncodeToBytes([]any{uint64(1), big.NewInt(1), uint64(21000), to, big.NewInt(1), []byte{}, big.NewInt(1), uint(0), uint(0)})
	if err != nil {
		t.Fatal(err)
	}
	return "0x" + common.Bytes2Hex(b)
}

func TestCreateNodeUnreachable(t *testing.T) {
	// The dev chain's id is accepted for ETH testnet keys, as `custos serve
	// --chain-id ETH:testnet=1337` configures it.
	e := newEnv(t, func(c *Config) {
		c.ExtraChainIDs = map[bool]map[string][]uint64{true: {"ETH": {devchain.ChainID}}}
	})
	e.srv.lookupChain = chains.Lookup
	node, err := broadcast.DialEVM("http://operator:hunter2@127.0.0.1:1/rpc?apikey=sekrit")
	if err != nil {
		t.Fatal(err)
	}
	e.nodes.Set("ETH", false, node)
	r := e.queue(e.keyA, `{"to":"`+fillRecipient+`","value":"1","from":"`+fillFrom+`"}`)
	er := r.wantError(t, 502, CodeNodeUnavailable)
	if !strings.Contains(er.Message, "eth_getTransactionCount") || strings.Contains(string(r.body), "hunter2") || strings.Contains(string(r.body), "sekrit") {
		t.Fatalf("502 body %s", r.body)
	}
	if n, _ := e.store.Pending(t.Context(), pending.PendingQuery{Tenant: e.idA, Chain: "ETH"}); len(n) != 0 {
		t.Fatalf("stored without completion: %+v", n)
	}
	// A complete transaction needs no node at all.
	var out struct{ ID string }
	e.queue(e.keyA, `{"to":"`+fillRecipient+`","value":"1","nonce":3,"gas":21000,"gasPrice":"1","chainId":1}`).want(t, 200, &out)
}
