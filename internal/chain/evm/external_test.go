package evm_test

import (
	"context"
	"errors"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/chain/evm/evmtest"
)

func TestSignExternalVectors(t *testing.T) {
	for _, highS := range []bool{false, true} {
		t.Run(map[bool]string{false: "low-s", true: "high-s"}[highS], func(t *testing.T) {
			k := evmtest.NewMemKey(t)
			k.HighS = highS
			evmtest.CheckExternalKey(t, k)
		})
	}
}

func TestSignExternalRefusesABadSignature(t *testing.T) {
	k := evmtest.NewMemKey(t)
	k.Wrong = true
	ser := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","nonce":0,"gasLimit":21000,"gasPrice":"1","chainId":1}`
	_, err := evm.ETH.SignExternal(context.Background(), chain.SignRequest{Serialized: ser}, []chain.DigestSigner{k})
	if !errors.Is(err, chain.ErrBadSignature) {
		t.Fatalf("a signature of another digest: err %v, want ErrBadSignature", err)
	}
}
