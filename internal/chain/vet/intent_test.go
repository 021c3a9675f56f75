package vet

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// vetFields is a vector's body as the vector states it: the Tatum JSON
// itself, or a native row's unsigned_fields.
type vetFields struct {
	ChainTag     int
	Gas          uint64
	GasPriceCoef int64
	To           string
	Value        json.RawMessage
	Clauses      []struct {
		To    string
		Value json.RawMessage
		Data  string
	}
}

// amount reads a vector's value: a decimal string, a 0x-hex string or a number.
func amount(t *testing.T, v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) != nil {
		s = string(v)
	}
	n, ok := new(big.Int).SetString(strings.TrimPrefix(s, "0x"), map[bool]int{true: 16, false: 10}[strings.HasPrefix(s, "0x")])
	if !ok {
		t.Fatalf("value %s", v)
	}
	return n.String()
}

// Each VET vector's intent is its own fields: each clause's recipient and
// value (a clause with data a call), chainTag, and gas × the price of its
// gasPriceCoef. No vector names its origin (Tatum's from is the wallet index
// 0), so no signer is expected.
func TestIntentVectors(t *testing.T) {
	none := func(vectors.Signing) bool { return true }
	chaintest.IntentVectors(t, "VET", VET, nil, none, func(t *testing.T, r vectors.Signing, got intent.Intent) {
		var f vetFields
		src := []byte(r.PendingTransaction.SerializedTransaction)
		if r.Format == "native" {
			src = r.UnsignedFields
		}
		if err := json.Unmarshal(src, &f); err != nil {
			t.Fatal(err)
		}
		name := r.PendingTransaction.ID
		var transfers []intent.Transfer
		var calls []intent.Call
		if r.Format == "tatum" {
			transfers = []intent.Transfer{{To: f.To, Amount: amount(t, f.Value)}}
		}
		for _, c := range f.Clauses {
			if c.Data == "0x" {
				transfers = append(transfers, intent.Transfer{To: c.To, Amount: amount(t, c.Value)})
			} else {
				calls = append(calls, intent.Call{Contract: c.To, Method: c.Data[:10], Data: c.Data})
			}
		}
		chaintest.WantTransfers(t, name, got.Transfers, transfers)
		if len(got.Calls) != len(calls) || (len(calls) > 0 && got.Calls[0] != calls[0]) {
			t.Errorf("%s: calls %+v, want %+v", name, got.Calls, calls)
		}
		price := 1_000_000_000_000_000 + 1_000_000_000_000_000*f.GasPriceCoef/255
		chaintest.WantFee(t, name, got.Fee, intent.Fee{
			Max:      new(big.Int).Mul(big.NewInt(price), new(big.Int).SetUint64(f.Gas)).String(),
			GasPrice: strconv.FormatInt(price, 10), GasLimit: strconv.FormatUint(f.Gas, 10),
		})
		if got.ChainID != strconv.Itoa(f.ChainTag) || len(got.Signers) != 0 {
			t.Errorf("%s: chainID %q signers %q", name, got.ChainID, got.Signers)
		}
	})
}

// Both forms are refused on the other network; a Tatum from naming an
// address is the signer.
func TestIntentNetworkAndFrom(t *testing.T) {
	for _, r := range chaintest.SigningRows(t, "VET") {
		chaintest.IntentRefusesNetwork(t, VET, r.PendingTransaction.SerializedTransaction, r.Testnet)
	}
	r := chaintest.SigningRows(t, "VET")[0]
	var want chaintest.Expected
	_ = json.Unmarshal(r.Expected, &want)
	ser := strings.Replace(r.PendingTransaction.SerializedTransaction, `"from":0`, `"from":"`+strings.ToUpper(want.From[2:])+`"`, 1)
	if _, err := VET.Intent(ser, r.Testnet); err == nil {
		t.Error("from without 0x decoded")
	}
	ser = strings.Replace(r.PendingTransaction.SerializedTransaction, `"from":0`, `"from":"`+want.From+`"`, 1)
	got, err := VET.Intent(ser, r.Testnet)
	if err != nil || len(got.Signers) != 1 || got.Signers[0] != want.From {
		t.Errorf("signers %q, %v", got.Signers, err)
	}
}

func FuzzIntent(f *testing.F) { chaintest.FuzzIntent(f, VET, chaintest.Seeds("VET")...) }
