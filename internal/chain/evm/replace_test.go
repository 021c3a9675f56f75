package evm

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/chain"
)

func TestMinReplacementFee(t *testing.T) {
	for old, want := range map[int64]int64{0: 1, 1: 2, 9: 10, 10: 11, 100: 110, 101: 112, 1_000_000_000: 1_100_000_000} {
		if got := MinReplacementFee(big.NewInt(old)); got.Int64() != want {
			t.Errorf("MinReplacementFee(%d) = %s, want %d", old, got, want)
		}
	}
}

// ethFrom0 is ethKey0's address.
var ethFrom0 = common.HexToAddress("0xb157e208264ff9edebbcb1d36e66d156df8afa6c")

// replaceOf signs ser with ethKey0 and builds its replacement.
func replaceOf(t *testing.T, ser string, market int64, r chain.ReplaceRequest) (*Tx, error) {
	t.Helper()
	signed, err := ETH.Sign(context.Background(), chain.SignRequest{Serialized: ser, Testnet: true, Keys: []string{ethKey0}})
	if err != nil {
		t.Fatal(err)
	}
	r.Signed, r.Testnet = signed.TxData, true
	out, err := ETH.Replacement(context.Background(), &fakeNode{gasPrice: big.NewInt(market)}, r)
	if err != nil {
		return nil, err
	}
	if err := ETH.ValidateTx(out, true); err != nil {
		t.Fatalf("replacement %s is refused by ValidateTx: %v", out, err)
	}
	return ETH.ParseTx(out)
}

func TestReplacementSpeedUp(t *testing.T) {
	legacy := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1000","data":"0xabcd","gasPrice":"1000","gas":50000,"nonce":7,"chainId":11155111}`
	for _, tc := range []struct {
		name   string
		market int64
		max    int64
		want   int64
	}{
		{"the minimum bump above a low market price", 500, 0, 1100},
		{"the market price above the minimum", 5000, 0, 5000},
		{"the market price clamped to the ceiling", 5000, 2000, 2000},
	} {
		r := chain.ReplaceRequest{}
		if tc.max > 0 {
			r.MaxFee = big.NewInt(tc.max)
		}
		got, err := replaceOf(t, legacy, tc.market, r)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.GasPrice.Int64() != tc.want || *got.Nonce != 7 || *got.Gas != 50000 || got.Value.Int64() != 1000 ||
			string(got.Data) != "\xab\xcd" || *got.To != common.HexToAddress("0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6") ||
			*got.From != ethFrom0 || got.ChainID.Int64() != 11155111 {
			t.Errorf("%s: replacement %+v, want gasPrice %d and the rest unchanged", tc.name, got, tc.want)
		}
	}

	dynamic := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","maxFeePerGas":"3000","maxPriorityFeePerGas":"100","gas":21000,"nonce":2,"chainId":11155111}`
	got, err := replaceOf(t, dynamic, 10, chain.ReplaceRequest{})
	if err != nil || got.Type != TypeDynamicFee || got.GasFeeCap.Int64() != 3300 || got.GasTipCap.Int64() != 110 {
		t.Fatalf("EIP-1559 speed-up: %+v %v, want fee cap 3300 and tip 110", got, err)
	}
	got, err = replaceOf(t, dynamic, 10, chain.ReplaceRequest{Fees: map[string]*big.Int{"maxPriorityFeePerGas": big.NewInt(4000)}})
	if err != nil || got.GasFeeCap.Int64() != 4000 || got.GasTipCap.Int64() != 4000 {
		t.Fatalf("a tip above the bumped fee cap raises the cap: %+v %v", got, err)
	}
}

func TestReplacementCancel(t *testing.T) {
	ser := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1000","data":"0xabcd","gasPrice":"1000","gas":50000,"nonce":7,"chainId":11155111}`
	got, err := replaceOf(t, ser, 0, chain.ReplaceRequest{Cancel: true})
	if err != nil {
		t.Fatal(err)
	}
	if *got.To != ethFrom0 || *got.From != ethFrom0 || got.Value.Sign() != 0 || len(got.Data) != 0 ||
		got.Gas != nil || *got.Nonce != 7 || got.GasPrice.Int64() != 1100 {
		t.Fatalf("cancel %+v: want a zero-value self-transfer at nonce 7 paying 1100, gas left to the node", got)
	}
	// Without the signed bytes, the queued transaction must name its sender.
	_, err = ETH.Replacement(context.Background(), nil, chain.ReplaceRequest{Serialized: ser, Cancel: true, Testnet: true})
	if !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "sender") {
		t.Fatalf("cancel without a sender: %v", err)
	}
}

func TestReplacementRefuses(t *testing.T) {
	ser := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1000","gasPrice":"1000","gas":21000,"nonce":7,"chainId":11155111}`
	for _, tc := range []struct {
		name, want string
		r          chain.ReplaceRequest
	}{
		{"a fee below the minimum", "below the node's replacement minimum of 1100", chain.ReplaceRequest{Fees: map[string]*big.Int{"gasPrice": big.NewInt(1099)}}},
		{"a fee above the ceiling", "above the server's ceiling", chain.ReplaceRequest{Fees: map[string]*big.Int{"gasPrice": big.NewInt(3000)}, MaxFee: big.NewInt(2000)}},
		{"a minimum above the ceiling", "above the server's ceiling", chain.ReplaceRequest{MaxFee: big.NewInt(1050)}},
		{"a fee of the other type", "maxFeePerGas: this transaction's fees are gasPrice", chain.ReplaceRequest{Fees: map[string]*big.Int{"maxFeePerGas": big.NewInt(3000)}}},
	} {
		if _, err := replaceOf(t, ser, 0, tc.r); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalidTx with %q", tc.name, err, tc.want)
		}
	}
	got, err := replaceOf(t, ser, 0, chain.ReplaceRequest{Fees: map[string]*big.Int{"gasPrice": big.NewInt(1100)}})
	if err != nil || got.GasPrice.Int64() != 1100 {
		t.Fatalf("exactly the minimum: %+v %v", got, err)
	}
	incomplete := `{"from":"` + ethFrom0.Hex() + `","to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","nonce":3,"chainId":11155111}`
	if _, err := ETH.Replacement(context.Background(), nil, chain.ReplaceRequest{Serialized: incomplete, Testnet: true}); !errors.Is(err, ErrIncompleteTx) {
		t.Fatalf("an incomplete queued transaction without signed bytes: %v", err)
	}
}

// A second speed-up outbids the first one, which the pool may hold.
func TestReplacementOverRivals(t *testing.T) {
	ser := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1000","gasPrice":"1000","gas":21000,"nonce":7,"chainId":11155111}`
	first := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1000","maxFeePerGas":"2000","maxPriorityFeePerGas":"1500","gas":21000,"nonce":7,"chainId":11155111}`
	rival, err := ETH.Sign(context.Background(), chain.SignRequest{Serialized: first, Testnet: true, Keys: []string{ethKey0}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := replaceOf(t, ser, 0, chain.ReplaceRequest{Rivals: []string{rival.TxData}})
	if err != nil || got.GasPrice.Int64() != 2200 {
		t.Fatalf("speed-up over a rival with fee cap 2000: %+v %v, want gasPrice 2200", got, err)
	}
	other := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","gasPrice":"1000","gas":21000,"nonce":8,"chainId":11155111}`
	rival, err = ETH.Sign(context.Background(), chain.SignRequest{Serialized: other, Testnet: true, Keys: []string{ethKey0}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replaceOf(t, ser, 0, chain.ReplaceRequest{Rivals: []string{rival.TxData}}); !errors.Is(err, chain.ErrInvalidTx) {
		t.Fatalf("a rival at another nonce: %v", err)
	}
}
