package xlm

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/stellar/go-stellar-sdk/keypair"
	"github.com/stellar/go-stellar-sdk/txnbuild"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

// fillerNode answers the Horizon reads an envelope's completion needs.
type fillerNode struct{}

func (fillerNode) AccountSequence(context.Context, string) (int64, error) { return 0, nil }
func (fillerNode) FeeStats(context.Context) (FeeStats, error) {
	return FeeStats{BaseFee: 100, ChargedP90: 250}, nil
}

// The filler of a freed sequence number validates, is completed from the
// node (fee, time bounds), and signs to an envelope the Stellar SDK reads as
// the sender's, at that sequence number, with one BUMP_SEQUENCE to 0, and
// whose signature verifies with the sender's key.
func TestFiller(t *testing.T) {
	kp := keypair.MustParseFull("SDLN7PDCQ6X47ZEMDJPUJCCSD3LVTIF4P42HN6UPJFXFTYOR3YA5XMGR")
	sender := kp.Address()
	done := chaintest.Filler(t, XLM, sender, 42, true, fillerNode{})
	got, err := XLM.Sign(context.Background(), chain.SignRequest{Serialized: done, Testnet: true, Keys: []string{kp.Seed()}})
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	gt, err := txnbuild.TransactionFromXDR(got.TxData)
	if err != nil {
		t.Fatalf("SDK cannot read the signed filler: %v", err)
	}
	tx, ok := gt.Transaction()
	if !ok {
		t.Fatal("SDK reads a fee bump")
	}
	if tx.SourceAccount().AccountID != sender || tx.SequenceNumber() != 42 || tx.BaseFee() != 250 || tx.Timebounds().MaxTime == 0 {
		t.Errorf("signed filler: source %s, seq %d, fee %d, time bounds %+v", tx.SourceAccount().AccountID, tx.SequenceNumber(), tx.BaseFee(), tx.Timebounds())
	}
	ops := tx.Operations()
	if b, ok := ops[0].(*txnbuild.BumpSequence); len(ops) != 1 || !ok || b.BumpTo != 0 {
		t.Errorf("operations %+v", ops)
	}
	hash, _ := hex.DecodeString(got.TxID)
	if sigs := tx.Signatures(); len(sigs) != 1 || kp.Verify(hash, sigs[0].Signature) != nil {
		t.Error("SDK does not verify the signature")
	}
	if _, err := XLM.Filler("rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1", 1); err == nil {
		t.Error("a filler for a non-XLM sender")
	}
	if _, err := XLM.Filler(sender, 0); err == nil {
		t.Error("a filler at sequence number 0")
	}
}
