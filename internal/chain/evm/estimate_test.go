package evm

import (
	"context"
	"encoding/json"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

func TestEstimateFee(t *testing.T) {
	d := &chaintest.EVMNode{ChainID: 1, Gas: 51234, GasPrice: big.NewInt(1_500_000_000), Decimals: 6}
	node := dialDouble(t, d)
	body := `{"chain":"ETH","type":"TRANSFER_ERC20","sender":"` + signer0.Hex() + `","recipient":"` + payee + `","contractAddress":"` + tokenETH + `","amount":"2.5"}`
	out, err := ETH.EstimateFee(context.Background(), node, []byte(body), false)
	if err != nil {
		t.Fatal(err)
	}
	// Tatum's answer: numbers, gasPrice in Gwei.
	b, _ := json.Marshal(out)
	if string(b) != `{"gasLimit":51234,"gasPrice":1.5}` {
		t.Fatalf("answer %s", b)
	}
	// The estimate is of the transfer the sender would make: transfer(recipient,
	// 2.5 × 10^decimals()) on the contract, the decimals read from it.
	if !slices.Contains(d.Calls(), "eth_call") || len(d.Estimates()) != 1 {
		t.Fatalf("calls %v", d.Calls())
	}
	e := d.Estimates()[0]
	m, err := erc20.MethodById(common.FromHex(e["input"] + e["data"]))
	if err != nil {
		t.Fatalf("estimated data %v: %v", e, err)
	}
	args, _ := m.Inputs.Unpack(common.FromHex(e["input"] + e["data"])[4:])
	if !strings.EqualFold(e["from"], signer0.Hex()) || !strings.EqualFold(e["to"], tokenETH) ||
		!strings.EqualFold(args[0].(common.Address).Hex(), payee) || args[1].(*big.Int).String() != "2500000" {
		t.Fatalf("estimated %v %v", e, args)
	}

	// TRANSFER estimates a coin transfer with the amount as value.
	d.Reset()
	body = `{"chain":"ETH","type":"TRANSFER","sender":"` + signer0.Hex() + `","recipient":"` + payee + `","amount":"0.25"}`
	if out, err = ETH.EstimateFee(context.Background(), node, []byte(body), false); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(out); string(b) != `{"gasLimit":51234,"gasPrice":1.5}` || d.Estimates()[0]["value"] != "0x3782dace9d90000" {
		t.Fatalf("answer %s, estimated %v", b, d.Estimates())
	}
}

func TestEstimateFeeRefuses(t *testing.T) {
	node := dialDouble(t, &chaintest.EVMNode{ChainID: 1, Gas: 1, GasPrice: big.NewInt(1), Decimals: 1000})
	base := `"sender":"` + signer0.Hex() + `","recipient":"` + payee + `"`
	for _, tc := range []struct {
		node any
		body string
		want string
	}{
		{node, `{"chain":"ETH","type":"DEPLOY_ERC20",` + base + `,"amount":"1"}`, `type: must be TRANSFER_ERC20 or TRANSFER for ETH, got "DEPLOY_ERC20"`},
		{node, `{"chain":"ETH",` + base + `,"amount":"1"}`, `type: is required`},
		{node, `{"chain":"ETH","type":"TRANSFER_ERC20",` + base + `,"amount":"1"}`, `contractAddress: is required`},
		{node, `{"chain":"ETH","type":"TRANSFER","contractAddress":"` + tokenETH + `",` + base + `,"amount":"1"}`, `contractAddress: is only for TRANSFER_ERC20`},
		{node, `{"chain":"ETH","type":"TRANSFER",` + base + `,"amount":"0.0000000000000000001"}`, `amount: has more than the asset's 18 decimals, got "0.0000000000000000001"`},
		{node, `{"chain":"ETH","type":"TRANSFER","recipient":"` + payee + `","amount":"1"}`, `sender: is required`},
		{nil, `{"chain":"ETH","type":"TRANSFER",` + base + `,"amount":"1"}`, `chain: no ETH node is configured to estimate from`},
		{node, `{"chain":"ETH","type":"TRANSFER_ERC20","contractAddress":"` + tokenETH + `",` + base + `,"amount":"1"}`, `contractAddress: ` + common.HexToAddress(tokenETH).Hex() + ` does not answer decimals() as an ERC-20 token`},
	} {
		_, err := ETH.EstimateFee(context.Background(), tc.node, []byte(tc.body), false)
		fe, ok := err.(chain.FieldErrors)
		if !ok || !slices.Contains(fe, tc.want) {
			t.Errorf("%s:\n got %v\nwant %s", tc.body, err, tc.want)
		}
	}
}

func TestGwei(t *testing.T) {
	for wei, want := range map[int64]string{0: "0", 1: "0.000000001", 1e9: "1", 1_500_000_000: "1.5", 30_000_000_123: "30.000000123"} {
		if got := gwei(big.NewInt(wei)); got != want {
			t.Errorf("gwei(%d) = %s, want %s", wei, got, want)
		}
	}
}
