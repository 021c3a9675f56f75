package evm

import (
	"context"
	"encoding/json"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

// dialDouble starts d and returns an ethclient on it: the same client type
// the server's node client is built on.
func dialDouble(t testing.TB, d *chaintest.EVMNode) *ethclient.Client {
	t.Helper()
	c, err := ethclient.Dial(d.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// signer0 is the address of ethKey0, the key signOne signs with.
var signer0 = common.HexToAddress("0xb157e208264ff9edebbcb1d36e66d156df8afa6c")

const (
	payee    = "0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6"
	sigID    = "26d3883e-4e17-48b3-a0ee-09a3e484ac83"
	tokenETH = "0xdac17f958d2ee523a2206206994597c13d831ec7" // Tatum's USDT
)

// wantTx is what the signed transaction must hold, field by field.
type wantTx struct {
	to       string
	value    string
	data     []byte
	token    string // a token transfer's recipient and amount, in data
	amount   string
	nonce    uint64
	gas      uint64
	gasPrice string
}

// buildAndSign runs the whole path a transfer takes: Transfer, completion
// from the node double (as the server's queue does, sequence from the
// node), signing with ethKey0, then decoding with go-ethereum.
func buildAndSign(t *testing.T, c *Chain, body string, testnet bool, d *chaintest.EVMNode) (chain.Transfer, *types.Transaction) {
	t.Helper()
	node := dialDouble(t, d)
	tr, err := c.Transfer(context.Background(), node, []byte(body), testnet)
	if err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	if err := c.ValidateTx(tr.Serialized, testnet); err != nil {
		t.Fatalf("the built transaction is not a valid queue body: %v\n%s", err, tr.Serialized)
	}
	completed, err := c.CompleteFromNode(context.Background(), node, tr.Serialized, testnet)
	if err != nil {
		t.Fatalf("CompleteFromNode: %v", err)
	}
	if m, _ := c.MissingFields(completed); len(m) > 0 {
		t.Fatalf("still missing %v after completion", m)
	}
	tx, err := signOne(t, c, completed, testnet)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tr, tx
}

func checkTx(t *testing.T, tx *types.Transaction, w wantTx) {
	t.Helper()
	if !strings.EqualFold(tx.To().Hex(), w.to) {
		t.Errorf("to %s, want %s", tx.To().Hex(), w.to)
	}
	if tx.Value().String() != w.value {
		t.Errorf("value %s, want %s", tx.Value(), w.value)
	}
	if tx.Nonce() != w.nonce || tx.Gas() != w.gas || tx.GasPrice().String() != w.gasPrice {
		t.Errorf("nonce %d gas %d gasPrice %s, want %d %d %s", tx.Nonce(), tx.Gas(), tx.GasPrice(), w.nonce, w.gas, w.gasPrice)
	}
	if w.token == "" {
		if string(tx.Data()) != string(w.data) {
			t.Errorf("data %x, want %x", tx.Data(), w.data)
		}
		return
	}
	m, err := erc20.MethodById(tx.Data())
	if err != nil || m.Name != "transfer" {
		t.Fatalf("data %x is not an ERC-20 transfer: %v", tx.Data(), err)
	}
	args, err := m.Inputs.Unpack(tx.Data()[4:])
	if err != nil {
		t.Fatal(err)
	}
	if to := args[0].(common.Address); !strings.EqualFold(to.Hex(), w.token) {
		t.Errorf("token recipient %s, want %s", to.Hex(), w.token)
	}
	if v := args[1].(*big.Int); v.String() != w.amount {
		t.Errorf("token amount %s, want %s", v, w.amount)
	}
}

func TestTransferBuildsWhatGoEthereumDecodes(t *testing.T) {
	from := `"from":"` + signer0.Hex() + `","signatureId":"` + sigID + `"`
	for _, tc := range []struct {
		name    string
		c       *Chain
		testnet bool
		chainID uint64
		body    string
		want    wantTx
	}{{
		name: "ETH native with data", c: ETH, testnet: true, chainID: 11155111,
		body: `{"to":"` + payee + `","amount":"0.1","currency":"ETH","data":"hello",` + from + `,"index":3}`,
		want: wantTx{to: payee, value: "100000000000000000", data: []byte("hello"), nonce: 7, gas: 21000, gasPrice: "1000000007"},
	}, {
		name: "ETH USDT by symbol, 6 decimals", c: ETH, chainID: 1,
		body: `{"to":"` + payee + `","amount":"12.345678","currency":"USDT",` + from + `}`,
		want: wantTx{to: tokenETH, value: "0", token: payee, amount: "12345678", nonce: 7, gas: 21000, gasPrice: "1000000007"},
	}, {
		name: "MATIC token by contractAddress, 18 digits, nonce and fee given", c: MATIC, chainID: 137,
		body: `{"to":"` + payee + `","amount":"1.000000000000000001","contractAddress":"0x1111111111111111111111111111111111111111","digits":18,"nonce":0,"fee":{"gasLimit":"65000","gasPrice":"30.5"},` + from + `}`,
		want: wantTx{to: "0x1111111111111111111111111111111111111111", value: "0", token: payee, amount: "1000000000000000001", nonce: 0, gas: 65000, gasPrice: "30500000000"},
	}, {
		name: "BSC USDT_BSC, 18 decimals", c: BSC, testnet: false, chainID: 56,
		body: `{"to":"` + payee + `","amount":"5","currency":"USDT_BSC",` + from + `}`,
		want: wantTx{to: "0x55d398326f99059fF775485246999027B3197955", value: "0", token: payee, amount: "5000000000000000000", nonce: 7, gas: 21000, gasPrice: "1000000007"},
	}, {
		name: "XDC native to an xdc address", c: XDC, testnet: true, chainID: 51,
		body: `{"to":"xdc68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","amount":"2.5","currency":"XDC",` + from + `}`,
		want: wantTx{to: payee, value: "2500000000000000000", nonce: 7, gas: 21000, gasPrice: "1000000007"},
	}, {
		name: "ONE native on shard 0", c: ONE, testnet: true, chainID: 1666700000,
		body: `{"to":"` + payee + `","amount":"0.000000000000000001","currency":"ONE","fromShardID":0,"toShardID":0,` + from + `}`,
		want: wantTx{to: payee, value: "1", nonce: 7, gas: 21000, gasPrice: "1000000007"},
	}, {
		name: "KLAY native, nonce given, from left out", c: KLAY, testnet: true, chainID: 1001,
		body: `{"to":"` + payee + `","amount":"3","currency":"KLAY","nonce":12,"fee":{"gasLimit":"21000","gasPrice":"25"},"signatureId":"` + sigID + `"}`,
		want: wantTx{to: payee, value: "3000000000000000000", nonce: 12, gas: 21000, gasPrice: "25000000000"},
	}, {
		name: "CELO paid in CELO", c: CELO, testnet: true, chainID: 44787,
		body: `{"to":"` + payee + `","amount":"1","currency":"CELO","feeCurrency":"CELO",` + from + `}`,
		want: wantTx{to: payee, value: "1000000000000000000", nonce: 7, gas: 21000, gasPrice: "1000000007"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			d := &chaintest.EVMNode{ChainID: tc.chainID, Nonce: 7, Gas: 21000, GasPrice: big.NewInt(1000000007)}
			tr, tx := buildAndSign(t, tc.c, tc.body, tc.testnet, d)
			if tx.ChainId().Uint64() != tc.chainID {
				t.Errorf("chain id %d, want %d", tx.ChainId(), tc.chainID)
			}
			checkTx(t, tx, tc.want)
			if !slices.Equal(tr.Hashes, []string{sigID}) {
				t.Errorf("hashes %v", tr.Hashes)
			}
			if strings.Contains(tc.body, `"index":3`) != (tr.Index != nil && *tr.Index == 3) {
				t.Errorf("index %v", tr.Index)
			}
			// The gas the node estimated was for the sender named by from.
			for _, e := range d.Estimates() {
				if !strings.EqualFold(e["from"], signer0.Hex()) {
					t.Errorf("estimate from %q, want %s", e["from"], signer0.Hex())
				}
			}
		})
	}
}

// A CELO transfer of cUSD paid in cUSD is a CIP-64 transaction naming
// Celo's cUSD contract twice: as the token called and as feeCurrency.
func TestTransferCeloFeeCurrency(t *testing.T) {
	d := &chaintest.EVMNode{ChainID: 44787, Nonce: 2, Gas: 90000, GasPrice: big.NewInt(1)}
	node := dialDouble(t, d)
	body := `{"to":"` + payee + `","amount":"0.5","currency":"CUSD","feeCurrency":"CUSD","fee":{"gasLimit":"100000","gasPrice":"5"},"from":"` + signer0.Hex() + `","signatureId":"` + sigID + `"}`
	tr, err := CELO.Transfer(context.Background(), node, []byte(body), true)
	if err != nil {
		t.Fatal(err)
	}
	completed, err := CELO.CompleteFromNode(context.Background(), node, tr.Serialized, true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := CELO.Sign(context.Background(), chain.SignRequest{Serialized: completed, Testnet: true, Keys: []string{ethKey0}})
	if err != nil {
		t.Fatal(err)
	}
	s := decodeCIP64(t, common.FromHex(got.TxData))
	cusd := common.HexToAddress("0x874069fa1eb16d44d622f2e0ca25eea172369bc1")
	if s.ChainID.Uint64() != 44787 || s.Nonce != 2 || s.Gas != 100000 || s.GasFeeCap.String() != "5000000000" ||
		s.GasTipCap.String() != "5000000000" || s.To != cusd || s.FeeCurrency != cusd || s.Value.Sign() != 0 {
		t.Fatalf("fields %+v", s)
	}
	m, _ := erc20.MethodById(s.Data)
	args, err := m.Inputs.Unpack(s.Data[4:])
	if err != nil || !strings.EqualFold(args[0].(common.Address).Hex(), payee) || args[1].(*big.Int).String() != "500000000000000000" {
		t.Fatalf("call %v %v", args, err)
	}
}

// Amounts convert exactly in the asset's decimals: 18 for the coins, the
// table's for a symbol, digits for a contract.
func TestTransferAmounts(t *testing.T) {
	for _, tc := range []struct {
		currency, amount, want string
	}{
		{`"currency":"ETH"`, "1", "1000000000000000000"},
		{`"currency":"ETH"`, "0.000000000000000001", "1"},
		{`"currency":"ETH"`, "+.5", "500000000000000000"},
		{`"currency":"ETH"`, "123456789.123456789123456789", "123456789123456789123456789"},
		{`"currency":"ETH"`, "0", "0"},
		{`"currency":"USDC"`, "0.000001", "1"},
		{`"currency":"USDC"`, "1000000.5", "1000000500000"},
		{`"currency":"WBTC"`, "21000000.00000001", "2100000000000001"},
		{`"contractAddress":"0x1111111111111111111111111111111111111111","digits":6`, "7.", "7000000"},
		{`"contractAddress":"0x1111111111111111111111111111111111111111","digits":30`, "1", "1000000000000000000000000000000"},
	} {
		body := `{"to":"` + payee + `","amount":"` + tc.amount + `",` + tc.currency + `,"from":"` + signer0.Hex() + `","signatureId":"` + sigID + `"}`
		tr, err := ETH.Transfer(context.Background(), nil, []byte(body), false)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.currency, tc.amount, err)
		}
		tx, err := ETH.ParseTx(tr.Serialized)
		if err != nil {
			t.Fatal(err)
		}
		got := tx.Value.String()
		if len(tx.Data) > 0 {
			got = new(big.Int).SetBytes(tx.Data[36:]).String()
		}
		if got != tc.want {
			t.Errorf("%s %s: %s base units, want %s", tc.currency, tc.amount, got, tc.want)
		}
	}
}

func TestTransferValidation(t *testing.T) {
	good := map[string]any{"to": payee, "amount": "1", "currency": "ETH", "from": signer0.Hex(), "signatureId": sigID}
	for _, tc := range []struct {
		c       *Chain
		testnet bool
		edit    map[string]any // nil values delete
		want    []string
	}{
		{ETH, false, map[string]any{"amount": "1.0000000000000000001"}, []string{`amount: has more than the asset's 18 decimals, got "1.0000000000000000001"`}},
		{ETH, false, map[string]any{"amount": "-1"}, []string{`amount: must be a non-negative decimal number such as 1.5, got "-1"`}},
		{ETH, false, map[string]any{"amount": "1e18"}, []string{`amount: must be a non-negative decimal number such as 1.5, got "1e18"`}},
		{ETH, false, map[string]any{"amount": nil}, []string{"amount: is required"}},
		{ETH, false, map[string]any{"currency": "USDC", "amount": "0.0000001"}, []string{`amount: has more than the asset's 6 decimals, got "0.0000001"`}},
		{ETH, false, map[string]any{"to": "0x123"}, []string{`to: address "0x123": want 0x followed by 40 hex digits`}},
		{ETH, false, map[string]any{"to": nil, "signatureId": nil}, []string{"signatureId: is required", "to: is required"}},
		{ETH, false, map[string]any{"fromPrivateKey": "0xabc"}, []string{"fromPrivateKey: is never sent to this server: give signatureId, the wallet's id in the signer"}},
		{ETH, false, map[string]any{"currency": "DOGE"}, []string{`currency: must be one of ETH, BAT, BUSD, COIIN, FREE, GMC, LATOKEN, LEO, LINK, MATIC_ETH, MKR, MMY, PAX, PAXG, PLTC, POL_ETH, REVV, SAND, TUSD, UNI, USDC, USDT, WBTC, XCON on ETH mainnet, got "DOGE" (send other tokens by contractAddress and digits)`}},
		{ETH, true, map[string]any{"currency": "USDT"}, []string{`currency: must be one of ETH on ETH testnet, got "USDT" (send other tokens by contractAddress and digits)`}},
		{ETH, false, map[string]any{"currency": nil}, []string{"currency: give currency (ETH or a token symbol) or contractAddress with digits"}},
		{ETH, false, map[string]any{"contractAddress": tokenETH}, []string{"currency: give currency or contractAddress, not both"}},
		{ETH, false, map[string]any{"currency": nil, "contractAddress": tokenETH}, []string{"digits: is required with contractAddress"}},
		{ETH, false, map[string]any{"currency": nil, "contractAddress": tokenETH, "digits": 31}, []string{"digits: must be a whole number from 1 to 30"}},
		{ETH, false, map[string]any{"currency": nil, "contractAddress": tokenETH, "digits": 6, "data": "memo"}, []string{"data: only a transfer of the chain's own coin carries data"}},
		{ETH, false, map[string]any{"data": strings.Repeat("a", 130001)}, []string{"data: must be at most 130000 characters"}},
		{ETH, false, map[string]any{"nonce": -1}, []string{"nonce: must be a whole number from 0 to 9223372036854775807, got -1"}},
		{ETH, false, map[string]any{"index": 2147483648}, []string{"index: must be a whole number from 0 to 2147483647, got 2147483648"}},
		{ETH, false, map[string]any{"fee": map[string]any{"gasLimit": "21000.5", "gasPrice": "1.0000000001"}}, []string{
			`fee.gasLimit: has more than the asset's 0 decimals, got "21000.5"`, `fee.gasPrice: has more than the asset's 9 decimals, got "1.0000000001"`}},
		{ETH, false, map[string]any{"fee": map[string]any{"gasLimit": "21000"}}, []string{"fee.gasPrice: is required with fee"}},
		{ETH, false, map[string]any{"from": nil, "nonce": 1}, []string{"from: is required unless nonce and fee are both given: the server holds no keys, so the sender whose nonce it allocates and whose gas it estimates is named here"}},
		{ETH, false, map[string]any{"feeCurrency": "CUSD"}, []string{"feeCurrency: is a CELO field"}},
		{CELO, false, map[string]any{"currency": "CELO"}, []string{"feeCurrency: is required (CELO, CUSD or CEUR)"}},
		{CELO, false, map[string]any{"currency": "CELO", "feeCurrency": "CEUR"}, []string{"fee: is required when feeCurrency is CEUR: the node's gas price is in CELO"}},
		{ONE, false, map[string]any{"currency": "ONE", "toShardID": 1}, []string{"toShardID: only shard 0 is supported"}},
		{KLAY, false, map[string]any{"currency": "USDT"}, []string{`currency: must be one of KLAY on KLAY mainnet, got "USDT" (send other tokens by contractAddress and digits)`}},
	} {
		req := map[string]any{}
		for k, v := range good {
			req[k] = v
		}
		for k, v := range tc.edit {
			if v == nil {
				delete(req, k)
			} else {
				req[k] = v
			}
		}
		body, _ := json.Marshal(req)
		_, err := tc.c.Transfer(context.Background(), nil, body, tc.testnet)
		fe, ok := err.(chain.FieldErrors)
		if !ok || !slices.Equal([]string(fe), tc.want) {
			t.Errorf("%s %v:\n got %q\nwant %q", tc.c.info.Code, tc.edit, err, tc.want)
		}
	}
	// Duplicate keys in any case are refused before anything is read.
	_, err := ETH.Transfer(context.Background(), nil, []byte(`{"to":"`+payee+`","To":"`+signer0.Hex()+`"}`), false)
	if fe, ok := err.(chain.FieldErrors); !ok || len(fe) != 1 || !strings.Contains(fe[0], "duplicate or case-variant key") {
		t.Fatalf("duplicate keys: %v", err)
	}
}

// BenchmarkTransferBuild is the builder alone: parsing Tatum's body and
// writing the ERC-20 transfer, without a node (the route's node round trips
// are in internal/api's BenchmarkEthereumTransfer).
func BenchmarkTransferBuild(b *testing.B) {
	body := []byte(`{"to":"` + payee + `","amount":"12.345678","currency":"USDT","from":"` + signer0.Hex() + `","signatureId":"` + sigID + `","index":3}`)
	for b.Loop() {
		if _, err := ETH.Transfer(context.Background(), nil, body, false); err != nil {
			b.Fatal(err)
		}
	}
}
