package bnb

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// Every BNB vector's signed amino decodes to what its queued transfer does
// (completed with the node's account number and sequence), the signer being
// the vector's wallet; any one byte changed (the length prefix, a type
// prefix, an address, an amount, the memo, the public key, the signature)
// is refused or decodes otherwise; on the other network the signature does
// not verify over its chain id and the transaction is refused as another
// network's.
func TestSignedIntentVectors(t *testing.T) {
	serialized := func(r vectors.Signing) string { return completed(t, r) }
	chaintest.SignedIntentVectors(t, "BNB", BNB, serialized, func(t *testing.T, r vectors.Signing, e chaintest.Expected, got intent.Intent) {
		name := r.PendingTransaction.ID
		chaintest.WantSigners(t, name, got.Signers, e.From)
		raw, _ := hex.DecodeString(e.Signed)
		chaintest.WantTamperCaught(t, BNB, name, chaintest.ByteFlips(raw, hex.EncodeToString), r.Testnet, got)
		if _, err := BNB.SignedIntent(e.Signed, !r.Testnet); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("%s on the other network: %v", name, err)
		}
	})
}

func FuzzSignedIntent(f *testing.F) {
	chaintest.FuzzSignedIntent(f, BNB, chaintest.SignedSeeds("BNB")...)
}

// A transfer whose input is another account than the signing key's, though
// its signature verifies, is refused: the chain wants every input to sign.
func TestSignedIntentRefusesOtherInput(t *testing.T) {
	r := chaintest.SigningRows(t, "BNB")[0]
	tr, err := ParseTransfer(completed(t, r), r.Testnet)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := chain.ParseHexKey(r.Keys[0].Secret, false)
	if err != nil {
		t.Fatal(err)
	}
	tr.Inputs[0].Address = tr.Outputs[0].Address
	s, err := tr.sign(priv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := BNB.SignedIntent(s.TxData, r.Testnet); !errors.Is(err, chain.ErrInvalidTx) {
		t.Errorf("another account's input: %v, want ErrInvalidTx", err)
	}
}
