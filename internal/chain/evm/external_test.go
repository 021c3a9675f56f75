package evm_test

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/chain/evm/evmtest"
)

// memKey is a DigestSigner over an in-process key that answers as a remote
// one may: with the high-s twin of the signature when highS is set, and
// signing another digest when wrong is set.
type memKey struct {
	priv  *btcec.PrivateKey
	highS bool
	wrong bool
}

func (k *memKey) PublicKey(context.Context) (*btcec.PublicKey, error) { return k.priv.PubKey(), nil }

func (k *memKey) SignDigest(_ context.Context, digest []byte) (*big.Int, *big.Int, error) {
	if k.wrong {
		digest = crypto.Keccak256(digest)
	}
	key, err := crypto.ToECDSA(k.priv.Serialize())
	if err != nil {
		return nil, nil, err
	}
	sig, err := crypto.Sign(digest, key)
	if err != nil {
		return nil, nil, err
	}
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
	if k.highS {
		s.Sub(btcec.S256().N, s)
	}
	return r, s, nil
}

func newMemKey(t *testing.T) *memKey {
	t.Helper()
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &memKey{priv: priv}
}

func TestSignExternalVectors(t *testing.T) {
	for _, highS := range []bool{false, true} {
		t.Run(map[bool]string{false: "low-s", true: "high-s"}[highS], func(t *testing.T) {
			k := newMemKey(t)
			k.highS = highS
			evmtest.CheckExternalKey(t, k)
		})
	}
}

func TestSignExternalRefusesABadSignature(t *testing.T) {
	k := newMemKey(t)
	k.wrong = true
	ser := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","nonce":0,"gasLimit":21000,"gasPrice":"1","chainId":1}`
	_, err := evm.ETH.SignExternal(context.Background(), chain.SignRequest{Serialized: ser}, []chain.DigestSigner{k})
	if !errors.Is(err, chain.ErrBadSignature) {
		t.Fatalf("a signature of another digest: err %v, want ErrBadSignature", err)
	}
}
