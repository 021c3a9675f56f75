package xlm

import (
	"strconv"
	"testing"

	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// The fields of each XLM vector's envelope, read from its base64 XDR by
// field offsets (Stellar-transaction.x) outside Go, not with the SDK that
// Intent uses: fee, sequence number, memo, and the one payment's
// destination and stroops.
var xlmVectorFields = map[string]struct {
	fee, seq uint64
	memo     string
	to       string
	stroops  string
}{
	"32f9caff27de9ea479d9b655": {100, 123456790, "kms-public0", "GAA3NHOIJMQCZKSS6JQSR2MO4UINQBCD3HZXPOSJIRE5ND3VJZEFCCRB", "15000000"},
	"eedf9a2c022f2fcb95e48830": {200, 123456791, "1001", "GC2SLBZRVMVPOOBNSHEAZCFDODXJBVSFWX3D7XALMM7H4J3SZ5EMIE2T", "2500000001"},
	"0eed4e9c0e305d6e02547b4d": {300, 123456792, "kms-public2", "GBTRQUX7MF3V3PNR2SNHIBQ5YWC2H4BPLSX4IV37WXHRLX33RMJY3JNB", "1234567"},
	"a12303362a8bac83c01a501d": {400, 123456793, "1003", "GCNII5BPCA4YEGI26KV5EWBWKUHO6OHICWUYITNAS3P2ROQOO5F4RPW5", "420000000"},
}

func TestIntentVectors(t *testing.T) {
	chaintest.IntentVectors(t, "XLM", XLM, nil, nil, func(t *testing.T, r vectors.Signing, got intent.Intent) {
		name := r.PendingTransaction.ID
		f, ok := xlmVectorFields[name]
		if !ok {
			t.Fatalf("%s: no hand-read fields for this vector", name)
		}
		chaintest.WantTransfers(t, name, got.Transfers, []intent.Transfer{{To: f.to, Amount: f.stroops}})
		chaintest.WantFee(t, name, got.Fee, intent.Fee{Max: itoa(f.fee)})
		chaintest.WantSequence(t, name, got.Sequence, f.seq)
		if got.Memo != f.memo || len(got.Signers) != 1 || len(got.Calls) != 0 {
			t.Errorf("%s: memo %q signers %q calls %+v", name, got.Memo, got.Signers, got.Calls)
		}
	})
}

// An operation with its own source adds a signer; a non-native asset is
// CODE:issuer; an operation that is no payment is a call.
func TestIntentOperations(t *testing.T) {
	r := chaintest.SigningRows(t, "XLM")[0]
	var env xdr.TransactionEnvelope
	if err := xdr.SafeUnmarshalBase64(r.PendingTransaction.SerializedTransaction, &env); err != nil {
		t.Fatal(err)
	}
	src := env.V1.Tx.SourceAccount
	other := xdr.MustMuxedAddress(xlmVectorFields["eedf9a2c022f2fcb95e48830"].to)
	issuer := xdr.MustAddress(xlmVectorFields["a12303362a8bac83c01a501d"].to)
	usd, err := xdr.NewCreditAsset("USD", issuer.Address())
	if err != nil {
		t.Fatal(err)
	}
	pay := env.V1.Tx.Operations[0]
	p := pay.Body.MustPaymentOp()
	p.Asset = usd
	pay.Body.PaymentOp = &p
	pay.SourceAccount = &other
	merge := xdr.Operation{Body: xdr.OperationBody{Type: xdr.OperationTypeAccountMerge, Destination: &src}}
	env.V1.Tx.Operations = []xdr.Operation{pay, merge}
	env.V1.Tx.Fee = 200
	s, err := xdr.MarshalBase64(env)
	if err != nil {
		t.Fatal(err)
	}
	got, err := XLM.Intent(s, true)
	if err != nil {
		t.Fatal(err)
	}
	f := xlmVectorFields[r.PendingTransaction.ID]
	chaintest.WantTransfers(t, "usd", got.Transfers, []intent.Transfer{{To: f.to, Amount: f.stroops, Asset: "USD:" + issuer.Address()}})
	if len(got.Signers) != 2 || got.Signers[1] != other.Address() {
		t.Errorf("signers %q", got.Signers)
	}
	if len(got.Calls) != 1 || got.Calls[0].Method != "AccountMerge" || got.Calls[0].Contract != got.Signers[0] {
		t.Errorf("calls %+v", got.Calls)
	}
	chaintest.WantFee(t, "fee", got.Fee, intent.Fee{Max: "200"})
	env.V1.Tx.Fee = 0 // as queued before the server completes it: Sign refuses it
	s, _ = xdr.MarshalBase64(env)
	if _, err := XLM.Intent(s, true); err == nil {
		t.Error("incomplete envelope decoded")
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func FuzzIntent(f *testing.F) { chaintest.FuzzIntent(f, XLM, chaintest.Seeds("XLM")...) }
