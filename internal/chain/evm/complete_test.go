package evm

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

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
	nonceOf  common.Address

	mu    sync.Mutex // Complete asks some calls at once
	calls []string
}

func (n *fakeNode) record(call string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, call)
}

func (n *fakeNode) ChainID(context.Context) (*big.Int, error) {
	n.record("eth_chainId")
	if n.chainID == nil {
		return nil, errors.New("no chain id")
	}
	return n.chainID, nil
}

func (n *fakeNode) PendingNonceAt(_ context.Context, a common.Address) (uint64, error) {
	n.record("eth_getTransactionCount")
	n.nonceOf = a
	return n.nonce, nil
}

func (n *fakeNode) EstimateGas(context.Context, ethereum.CallMsg) (uint64, error) {
	n.record("eth_estimateGas")
	return n.gas, nil
}

func (n *fakeNode) SuggestGasPrice(context.Context) (*big.Int, error) {
	n.record("eth_gasPrice")
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

// overlapNode answers the gas price and the estimate only once both have
// been asked: a Complete that asks them one after the other never gets an
// answer to the first and times out.
type overlapNode struct {
	fakeNode
	both sync.WaitGroup
}

func (n *overlapNode) wait(ctx context.Context) error {
	n.both.Done()
	done := make(chan struct{})
	go func() { n.both.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (n *overlapNode) EstimateGas(ctx context.Context, m ethereum.CallMsg) (uint64, error) {
	if err := n.wait(ctx); err != nil {
		return 0, err
	}
	return n.fakeNode.EstimateGas(ctx, m)
}

func (n *overlapNode) SuggestGasPrice(ctx context.Context) (*big.Int, error) {
	if err := n.wait(ctx); err != nil {
		return nil, err
	}
	return n.fakeNode.SuggestGasPrice(ctx)
}

// The gas price and the estimate are asked at once: one node round trip,
// not two, on every queue request that leaves both out.
func TestCompleteAsksGasPriceAndEstimateAtOnce(t *testing.T) {
	node := &overlapNode{fakeNode: fakeNode{chainID: big.NewInt(11155111), gas: 21000, gasPrice: big.NewInt(7)}}
	node.both.Add(2)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ser := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","nonce":3}`
	out, err := ETH.Complete(ctx, node, CompleteRequest{Serialized: ser, Testnet: true})
	if err != nil {
		t.Fatalf("asked one after the other: %v", err)
	}
	if tx, err := ETH.ParseTx(out); err != nil || *tx.Gas != 21000 || tx.GasPrice.Int64() != 7 || *tx.Nonce != 3 {
		t.Fatalf("completed %s: %v", out, err)
	}
}
