package xlm

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

// Every XLM vector's signed envelope decodes to what its pending one does,
// the source account first among the signers; any one byte changed (the
// signature, its hint, an amount, the sequence) is refused or decodes
// otherwise; on the other network the signature does not verify and the
// envelope is refused as another network's; the unsigned envelope is refused.
func TestSignedIntentVectors(t *testing.T) {
	signed := chaintest.SignedIntentVectors(t, "XLM", XLM, nil)
	for _, r := range chaintest.SigningRows(t, "XLM") {
		e := exp(t, r)
		name := r.PendingTransaction.ID
		got := signed[name]
		if len(got.Signers) == 0 || got.Signers[0] != e.From {
			t.Errorf("%s: signers %q, want %s first", name, got.Signers, e.From)
		}
		raw, _ := base64.StdEncoding.DecodeString(e.Signed)
		chaintest.WantTamperCaught(t, XLM, name, chaintest.ByteFlips(raw, base64.StdEncoding.EncodeToString), r.Testnet, got)
		if _, err := XLM.SignedIntent(e.Signed, !r.Testnet); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("%s on the other network: %v, want ErrWrongNetwork", name, err)
		}
		if _, err := XLM.SignedIntent(r.PendingTransaction.SerializedTransaction, r.Testnet); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("%s unsigned: %v, want ErrInvalidTx", name, err)
		}
	}
}

func FuzzSignedIntent(f *testing.F) {
	chaintest.FuzzSignedIntent(f, XLM, chaintest.SignedSeeds("XLM")...)
}
