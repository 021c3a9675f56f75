package egld

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// Each EGLD vector's intent is what the independent tool signed: the fields
// of the expected signed JSON (a Tatum row's value in the smallest unit, the
// nonce and gas the node answered), and the data's text as the memo. The one
// ESDT transfer's token and amount are read off its data field
// ("ESDTTransfer@555344432d633736663166@0f4240": USDC-c76f1f, 0x0f4240).
func TestIntentVectors(t *testing.T) {
	serialized := func(r vectors.Signing) string { return completed(t, r) }
	chaintest.IntentVectors(t, "EGLD", EGLD, serialized, nil, func(t *testing.T, r vectors.Signing, got intent.Intent) {
		var want expected
		if err := json.Unmarshal(r.Expected, &want); err != nil {
			t.Fatal(err)
		}
		var tx struct {
			Nonce              uint64
			Value, Receiver    string
			GasPrice, GasLimit uint64
			Data               string
			ChainID            string
		}
		if err := json.Unmarshal([]byte(want.Signed), &tx); err != nil {
			t.Fatal(err)
		}
		name := r.PendingTransaction.ID
		data, _ := base64.StdEncoding.DecodeString(tx.Data)
		transfers := []intent.Transfer{{To: tx.Receiver, Amount: tx.Value}}
		if tx.Value == "0" {
			transfers = []intent.Transfer{{To: tx.Receiver, Amount: "1000000", Asset: "USDC-c76f1f"}}
		}
		chaintest.WantTransfers(t, name, got.Transfers, transfers)
		chaintest.WantFee(t, name, got.Fee, intent.Fee{
			Max:      strconv.FormatUint(tx.GasPrice*tx.GasLimit, 10),
			GasPrice: strconv.FormatUint(tx.GasPrice, 10), GasLimit: strconv.FormatUint(tx.GasLimit, 10),
		})
		chaintest.WantSequence(t, name, got.Sequence, tx.Nonce)
		if got.Memo != string(data) || got.ChainID != tx.ChainID || len(got.Calls) != 0 {
			t.Errorf("%s: memo %q chainID %q calls %+v", name, got.Memo, got.ChainID, got.Calls)
		}
	})
}

// A contract call names its function; a Tatum transaction without from has
// no signer; a chainID of the other network is refused.
func TestIntentShapes(t *testing.T) {
	r := chaintest.SigningRows(t, "EGLD")[2]
	if r.Format != "native" {
		t.Fatal("row 2 is not native")
	}
	ser := r.PendingTransaction.SerializedTransaction
	chaintest.IntentRefusesNetwork(t, EGLD, ser, r.Testnet)

	var o map[string]any
	_ = json.Unmarshal([]byte(ser), &o)
	o["data"] = base64.StdEncoding.EncodeToString([]byte("swap@01@ff"))
	b, _ := json.Marshal(o)
	got, err := EGLD.Intent(string(b), r.Testnet)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Calls) != 1 || got.Calls[0].Method != "swap" || got.Calls[0].Contract != o["receiver"] || got.Calls[0].Data != "swap@01@ff" {
		t.Errorf("calls %+v", got.Calls)
	}
	tatum := `{"to":"` + o["receiver"].(string) + `","value":"1","nonce":1,"gasPrice":1000000000,"gasLimit":50000,"chainID":"T","version":1}`
	got, err = EGLD.Intent(tatum, true)
	if err != nil || len(got.Signers) != 0 {
		t.Errorf("tatum without from: %+v %v", got.Signers, err)
	}
}

func FuzzIntent(f *testing.F) { chaintest.FuzzIntent(f, EGLD, chaintest.Seeds("EGLD")...) }
