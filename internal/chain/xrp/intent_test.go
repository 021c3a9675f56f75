package xrp

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// Every XRP vector's intent is the pending transaction's own JSON fields:
// Destination and Amount, Fee, Sequence, DestinationTag and memo text.
func TestIntentVectors(t *testing.T) {
	chaintest.IntentVectors(t, "XRP", XRP, nil, nil, func(t *testing.T, r vectors.Signing, got intent.Intent) {
		var tx struct {
			Account, Destination, Amount, Fee string
			Sequence                          uint64
			DestinationTag                    *uint32
			Memos                             []struct{ Memo struct{ MemoData string } }
		}
		if err := json.Unmarshal([]byte(r.PendingTransaction.SerializedTransaction), &tx); err != nil {
			t.Fatal(err)
		}
		name := r.PendingTransaction.ID
		chaintest.WantTransfers(t, name, got.Transfers, []intent.Transfer{{To: tx.Destination, Amount: tx.Amount}})
		chaintest.WantFee(t, name, got.Fee, intent.Fee{Max: tx.Fee})
		chaintest.WantSequence(t, name, got.Sequence, tx.Sequence)
		memo := ""
		if tx.DestinationTag != nil {
			m, _ := hex.DecodeString(tx.Memos[0].Memo.MemoData)
			memo = fmt.Sprintf("%d\n%s", *tx.DestinationTag, m)
		}
		if got.Memo != memo || len(got.Signers) != 1 || got.Signers[0] != tx.Account {
			t.Errorf("%s: memo %q signers %q", name, got.Memo, got.Signers)
		}
	})
}

// An issued-currency payment names its asset as CODE:issuer with the value as
// written; a CheckCreate's SendMax is what it moves; an unknown field is
// refused as Sign refuses it.
func TestIntentShapes(t *testing.T) {
	const a, b = "rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1", "rKQRmZMXwexgBhcPp4ywVgMk66K5nXTbZx"
	base := `"Account":"` + a + `","Destination":"` + b + `","Fee":"10","Sequence":3`
	got, err := XRP.Intent(`{"TransactionType":"Payment",`+base+`,"Amount":{"currency":"USD","issuer":"`+a+`","value":"1.25"}}`, true)
	if err != nil {
		t.Fatal(err)
	}
	chaintest.WantTransfers(t, "issued", got.Transfers, []intent.Transfer{{To: b, Amount: "1.25", Asset: "USD:" + a}})
	got, err = XRP.Intent(`{"TransactionType":"CheckCreate",`+base+`,"SendMax":"777"}`, false)
	if err != nil {
		t.Fatal(err)
	}
	chaintest.WantTransfers(t, "check", got.Transfers, []intent.Transfer{{To: b, Amount: "777"}})
	if _, err := XRP.Intent(`{"TransactionType":"Payment",`+base+`,"Amount":"1","Bogus":1}`, false); err == nil {
		t.Error("unknown field accepted")
	}
	if _, err := XRP.Intent(`{"TransactionType":"Payment",`+base+`,"Amount":"1","TxnSignature":"00"}`, false); err == nil {
		t.Error("signed transaction accepted")
	}
}

func FuzzIntent(f *testing.F) { chaintest.FuzzIntent(f, XRP, chaintest.Seeds("XRP")...) }
