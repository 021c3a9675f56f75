package bnb

import (
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// native is a StdSignMsg of a transfer between the mainnet addresses of the vectors.
const native = `{"account_number":"34","chain_id":"Binance-Chain-Tigris","data":null,"memo":"100200301",` +
	`"msgs":[{"inputs":[{"address":"bnb1rszhp0zmpfp0ud54nhu3uvzk7gkrf7vzy0ky6p","coins":[{"amount":150000001,"denom":"BNB"}]}],` +
	`"outputs":[{"address":"bnb10e6jlzwu890crwfrhujan6p97al4uzeqpvdlnw","coins":[{"amount":150000001,"denom":"BNB"}]}]}],` +
	`"sequence":"7","source":"0"}`

func tatumMain() string {
	for _, r := range vectors.SigningFor("BNB") {
		if !r.Testnet {
			return r.PendingTransaction.SerializedTransaction
		}
	}
	panic("no mainnet BNB vector")
}

func garbage() []string {
	tx := tatumMain()
	return append([]string{
		`{"msg":{}}`, `{"msg":{"inputs":[],"outputs":[]}}`, `{"msgs":[]}`,
		strings.Replace(tx, `"aminoPrefix":"2A2C87FA"`, `"aminoPrefix":"2A2C87"`, 1),
		strings.Replace(tx, `"address":"bnb1rszhp0zmpfp0ud54nhu3uvzk7gkrf7vzy0ky6p"`, `"address":"bnb1rszhp0zmpfp0ud54nhu3uvzk7gkrf7vzy0ky6q"`, 1),
		strings.Replace(tx, `"amount":150000001,"denom"`, `"amount":-1,"denom"`, 1),
		strings.Replace(tx, `"memo":"100200301"`, `"memo":"`+strings.Repeat("m", 129)+`"`, 1),
		strings.Replace(native, `"sequence":"7"`, `"sequence":"x"`, 1),
		strings.Replace(native, `"coins":[{"amount":150000001,"denom":"BNB"}]`, `"coins":[]`, 1),
		strings.Replace(native, `"chain_id":"Binance-Chain-Tigris",`, ``, 1),
	}, chaintest.CommonGarbage...)
}

func TestValidateTx(t *testing.T) {
	chaintest.Validator(t, "BNB", BNB, garbage())
	if err := BNB.ValidateTx(native, false); err != nil {
		t.Errorf("StdSignMsg refused: %v", err)
	}
	// Mainnet addresses and chain id on a testnet wallet.
	for _, s := range []string{tatumMain(), native} {
		if err := BNB.ValidateTx(s, true); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("mainnet transaction on testnet: %v", err)
		}
	}
}

func FuzzValidateTx(f *testing.F) {
	for _, r := range vectors.SigningFor("BNB") {
		f.Add(r.PendingTransaction.SerializedTransaction, r.Testnet)
	}
	f.Add(native, false)
	for _, g := range garbage() {
		f.Add(g, false)
	}
	f.Fuzz(func(t *testing.T, s string, testnet bool) { _ = BNB.ValidateTx(s, testnet) })
}
