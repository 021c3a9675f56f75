package evm

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/chain"
)

// fakeNode answers as a node would; calls records what was asked.
type fakeNode struct {
	chainID  *big.Int
	nonce    uint64
	gas      uint64
	gasPrice *big.Int
	calls    []string
	nonceOf  common.Address
}

func (n *fakeNode) ChainID(context.Context) (*big.Int, error) {
	n.calls = append(n.calls, "eth_chainId")
	if n.chainID == nil {
		return nil, errors.New("no chain id")
	}
	return n.chainID, nil
}

func (n *fakeNode) PendingNonceAt(_ context.Context, a common.Address) (uint64, error) {
	n.calls = append(n.calls, "eth_getTransactionCount")
	n.nonceOf = a
	return n.nonce, nil
}

func (n *fakeNode) EstimateGas(context.Context, ethereum.CallMsg) (uint64, error) {
	n.calls = append(n.calls, "eth_estimateGas")
	return n.gas, nil
}

func (n *fakeNode) SuggestGasPrice(context.Context) (*big.Int, error) {
	n.calls = append(n.calls, "eth_gasPrice")
	return n.gasPrice, nil
}

func TestComplete(t *testing.T) {
	node := &fakeNode{chainID: big.NewInt(11155111), nonce: 0, gas: 21000, gasPrice: big.NewInt(20000000001)}
	ser := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1000000000000000","from":0}`
	out, err := ETH.Complete(context.Background(), node, CompleteRequest{Serialized: ser, From: "0xb157e208264ff9edebbcb1d36e66d156df8afa6c", Testnet: true})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := ETH.ParseTx(out)
	if err != nil || len(tx.Missing()) != 0 {
		t.Fatalf("completed tx %s: %v missing %v", out, err, tx.Missing())
	}
	if *tx.Nonce != 0 || *tx.Gas != 21000 || tx.GasPrice.String() != "20000000001" || tx.ChainID.Uint64() != 11155111 {
		t.Fatalf("completed %s", out)
	}
	if node.nonceOf != common.HexToAddress("0xb157e208264ff9edebbcb1d36e66d156df8afa6c") {
		t.Errorf("nonce asked for %s", node.nonceOf.Hex())
	}
	if _, err := signOne(t, ETH, out, true); err != nil {
		t.Fatalf("completed tx does not sign: %v", err)
	}
	// Given fields win; a complete transaction is not changed and costs no call.
	node.calls = nil
	full := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","gasPrice":"5","gas":30000,"nonce":0,"chainId":11155111}`
	if out, err := ETH.Complete(context.Background(), node, CompleteRequest{Serialized: full, Testnet: true}); err != nil || out != full || len(node.calls) != 0 {
		t.Errorf("complete tx changed: %s %v %v", out, err, node.calls)
	}
	partial := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","gas":30000,"nonce":0,"chainId":11155111}`
	out, err = ETH.Complete(context.Background(), node, CompleteRequest{Serialized: partial, Testnet: true})
	if tx, _ := ETH.ParseTx(out); err != nil || *tx.Gas != 30000 || *tx.Nonce != 0 || tx.GasPrice.Int64() != 20000000001 {
		t.Errorf("partial completion: %s %v", out, err)
	}
}

func TestCompleteRefuses(t *testing.T) {
	node := &fakeNode{chainID: big.NewInt(1), gas: 21000, gasPrice: big.NewInt(1)}
	noNonce := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","gasPrice":"5","gas":30000}`
	// A testnet wallet and a mainnet node.
	if _, err := ETH.Complete(context.Background(), node, CompleteRequest{Serialized: noNonce, From: "0xb157e208264ff9edebbcb1d36e66d156df8afa6c", Testnet: true}); !errors.Is(err, chain.ErrWrongNetwork) {
		t.Errorf("wrong network node: %v", err)
	}
	// Unknown sender: no nonce can be asked for.
	if _, err := ETH.Complete(context.Background(), node, CompleteRequest{Serialized: noNonce}); !errors.Is(err, ErrIncompleteTx) || !strings.Contains(err.Error(), "nonce") {
		t.Errorf("unknown sender: %v", err)
	}
	// The transaction names chain 56 but the node serves 1.
	bsc := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","chainId":56}`
	if _, err := BSC.Complete(context.Background(), node, CompleteRequest{Serialized: bsc}); !errors.Is(err, chain.ErrWrongNetwork) {
		t.Errorf("node on another chain: %v", err)
	}
	if _, err := ETH.Complete(context.Background(), &fakeNode{}, CompleteRequest{Serialized: noNonce, From: "0xb157e208264ff9edebbcb1d36e66d156df8afa6c"}); err == nil {
		t.Error("node error swallowed")
	}
}
