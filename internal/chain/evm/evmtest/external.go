// Package evmtest checks an external key (chain.DigestSigner) against the EVM
// signing vectors, so each key backend's test is one call: the in-process
// double of the evm package and the KMS backend against its emulator run the
// same rows and the same oracle.
package evmtest

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/vectors"
)

// Rows is how many EVM signing rows the vectors hold.
const Rows = 7 * 6

// CheckExternalKey signs every EVM signing vector's transaction with key and
// checks, with go-ethereum as the oracle, that the signed transaction
// recovers to the key's address and carries the same signing hash as the
// vector's own transaction signed with its private key: the same
// transaction, signed by the external key. It returns the key's address.
func CheckExternalKey(t *testing.T, key chain.DigestSigner) common.Address {
	t.Helper()
	ctx := context.Background()
	pub, err := key.PublicKey(ctx)
	if err != nil {
		t.Fatalf("public key: %v", err)
	}
	want := common.Address(chain.KeccakAddress(pub))
	n := 0
	for _, v := range vectors.Signings() {
		c := byCode(v.Chain)
		if c == nil {
			continue
		}
		n++
		t.Run(v.Chain+"/"+v.Format+map[bool]string{false: "/mainnet", true: "/testnet"}[v.Testnet], func(t *testing.T) {
			ser := complete(t, c, v)
			req := chain.SignRequest{Serialized: ser, Testnet: v.Testnet}
			got, err := c.SignExternal(ctx, req, []chain.DigestSigner{key})
			if err != nil {
				t.Fatalf("SignExternal: %v", err)
			}
			req.Keys = []string{v.Keys[0].DerivedPrivateKey}
			local, err := c.Sign(ctx, req)
			if err != nil {
				t.Fatalf("Sign with the vector's key: %v", err)
			}
			from, hash := sender(t, got.TxData)
			if from != want {
				t.Errorf("signed transaction recovers to %s, want the external key's %s", from.Hex(), want.Hex())
			}
			if _, localHash := sender(t, local.TxData); hash != localHash {
				t.Errorf("signing hash %s differs from the vector transaction's %s", hash, localHash)
			}
			if id := crypto.Keccak256Hash(common.FromHex(got.TxData)).Hex(); got.TxID != id {
				t.Errorf("txId %s, want %s", got.TxID, id)
			}
		})
	}
	if n != Rows {
		t.Fatalf("%d EVM signing rows, want %d", n, Rows)
	}
	return want
}

// byCode is the EVM chain of a code from the registry; nil for the others.
func byCode(code string) *evm.Chain {
	c, err := chains.Lookup(code)
	if err != nil {
		return nil
	}
	e, _ := c.(*evm.Chain)
	return e
}

// sender recovers the signer of a signed transaction and returns it with
// the hash its signature signs. Celo's CIP-64 type (0x7b) is unknown to
// go-ethereum: its list is decoded here, the signature being its last three
// items.
func sender(t *testing.T, txData string) (common.Address, common.Hash) {
	t.Helper()
	raw := common.FromHex(txData)
	if len(raw) > 0 && raw[0] == evm.TypeCeloFeeCurrency {
		var items []rlp.RawValue
		if err := rlp.DecodeBytes(raw[1:], &items); err != nil || len(items) != 13 {
			t.Fatalf("CIP-64 transaction: %v (%d items)", err, len(items))
		}
		var v, r, s big.Int
		for i, x := range []*big.Int{&v, &r, &s} {
			if err := rlp.DecodeBytes(items[10+i], x); err != nil {
				t.Fatal(err)
			}
		}
		body, err := rlp.EncodeToBytes(items[:10])
		if err != nil {
			t.Fatal(err)
		}
		hash := crypto.Keccak256Hash(append([]byte{evm.TypeCeloFeeCurrency}, body...))
		sig := make([]byte, 65)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:64])
		sig[64] = byte(v.Uint64())
		if !crypto.ValidateSignatureValues(sig[64], &r, &s, true) {
			t.Fatalf("CIP-64 signature values out of range (high s?)")
		}
		pub, err := crypto.SigToPub(hash[:], sig)
		if err != nil {
			t.Fatal(err)
		}
		return crypto.PubkeyToAddress(*pub), hash
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(raw); err != nil {
		t.Fatalf("signed transaction: %v", err)
	}
	signer := types.LatestSignerForChainID(tx.ChainId())
	from, err := types.Sender(signer, &tx)
	if err != nil {
		t.Fatalf("sender: %v", err)
	}
	return from, signer.Hash(&tx)
}

// complete fills the fields a row's reference asked its node for, as the
// server does when the transaction is queued.
func complete(t *testing.T, c *evm.Chain, v vectors.Signing) string {
	t.Helper()
	answers, err := v.Answers()
	if err != nil {
		t.Fatal(err)
	}
	if answers == nil {
		return v.PendingTransaction.SerializedTransaction
	}
	out, err := c.Complete(context.Background(), answerNode(answers), evm.CompleteRequest{Serialized: v.PendingTransaction.SerializedTransaction, Testnet: v.Testnet})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// answerNode is an evm.Node answering from a vector's node_answers, by
// JSON-RPC method name.
type answerNode map[string]*big.Int

var _ evm.Node = answerNode{}

func (n answerNode) get(method string) (*big.Int, error) {
	if v, ok := n[method]; ok {
		return v, nil
	}
	return nil, errors.New("no answer for " + method)
}

func (n answerNode) ChainID(context.Context) (*big.Int, error) { return n.get("eth_chainId") }

func (n answerNode) PendingNonceAt(context.Context, common.Address) (uint64, error) {
	v, err := n.get("eth_getTransactionCount")
	if err != nil {
		return 0, err
	}
	return v.Uint64(), nil
}

func (n answerNode) EstimateGas(context.Context, ethereum.CallMsg) (uint64, error) {
	v, err := n.get("eth_estimateGas")
	if err != nil {
		return 0, err
	}
	return v.Uint64(), nil
}

func (n answerNode) SuggestGasPrice(context.Context) (*big.Int, error) { return n.get("eth_gasPrice") }
