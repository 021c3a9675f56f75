package xrp

import (
	"context"
	"testing"

	binarycodec "github.com/Peersyst/xrpl-go/binary-codec"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

// The filler of a freed Sequence validates, is completed from the node like
// any queued transaction, and signs (xrpl-go decodes) to an AccountSet of
// the sender at that Sequence with no flags.
func TestFiller(t *testing.T) {
	const sender, key = "rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1", "spmUbuLeoHN3o7x1uxgTyDrrWgdh5"
	done := chaintest.Filler(t, XRP, sender, 42, false, fakeNode{fees: Fees{Base: 10, OpenLedger: 12}, validated: 100})
	s, err := XRP.Sign(context.Background(), chain.SignRequest{Serialized: done, Keys: []string{key}})
	if err != nil {
		t.Fatalf("Sign(%s): %v", done, err)
	}
	dec, err := binarycodec.Decode(s.TxData)
	if err != nil {
		t.Fatal(err)
	}
	if dec["TransactionType"] != "AccountSet" || dec["Account"] != sender || dec["Sequence"] != uint32(42) ||
		dec["Fee"] != "12" || dec["LastLedgerSequence"] != uint32(175) {
		t.Errorf("signed filler decodes to %v", dec)
	}
	for _, k := range []string{"SetFlag", "ClearFlag", "Flags", "Domain"} {
		if _, ok := dec[k]; ok {
			t.Errorf("the filler carries %s: %v", k, dec)
		}
	}
	if _, err := XRP.Filler("0xabc", 1); err == nil {
		t.Error("a filler for a non-XRP sender")
	}
	if _, err := XRP.Filler(sender, 1<<32); err == nil {
		t.Error("a filler at a Sequence beyond 32 bits")
	}
}
