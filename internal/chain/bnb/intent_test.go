package bnb

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// Each BNB vector's intent is its signMsg (input and output addresses and
// coins), memo, and the sequence and chain id the node answered.
func TestIntentVectors(t *testing.T) {
	serialized := func(r vectors.Signing) string { return completed(t, r) }
	chaintest.IntentVectors(t, "BNB", BNB, serialized, nil, func(t *testing.T, r vectors.Signing, got intent.Intent) {
		var tx struct {
			SignMsg struct {
				Inputs, Outputs []struct {
					Address string
					Coins   []struct {
						Denom  string
						Amount int64
					}
				}
			}
			Memo string
		}
		if err := json.Unmarshal([]byte(r.PendingTransaction.SerializedTransaction), &tx); err != nil {
			t.Fatal(err)
		}
		var answers []struct {
			Result json.RawMessage
		}
		if err := json.Unmarshal(r.NodeAnswers, &answers); err != nil {
			t.Fatal(err)
		}
		var network string
		var acc struct{ Sequence uint64 }
		_ = json.Unmarshal(answers[0].Result, &network)
		_ = json.Unmarshal(answers[1].Result, &acc)
		name := r.PendingTransaction.ID
		var want []intent.Transfer
		for _, o := range tx.SignMsg.Outputs {
			for _, c := range o.Coins {
				if c.Denom != "BNB" {
					t.Fatalf("%s: vector coin %s", name, c.Denom)
				}
				want = append(want, intent.Transfer{To: o.Address, Amount: strconv.FormatInt(c.Amount, 10)})
			}
		}
		chaintest.WantTransfers(t, name, got.Transfers, want)
		chaintest.WantSequence(t, name, got.Sequence, acc.Sequence)
		if got.Memo != tx.Memo || got.ChainID != network || got.Fee != nil ||
			len(got.Signers) != 1 || got.Signers[0] != tx.SignMsg.Inputs[0].Address {
			t.Errorf("%s: memo %q chainID %q fee %+v signers %q", name, got.Memo, got.ChainID, got.Fee, got.Signers)
		}
		chaintest.IntentRefusesNetwork(t, BNB, serialized(r), r.Testnet)
	})
}

func FuzzIntent(f *testing.F) { chaintest.FuzzIntent(f, BNB, chaintest.Seeds("BNB")...) }
