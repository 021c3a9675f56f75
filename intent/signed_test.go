package intent

import (
	"errors"
	"testing"
)

func seq(n uint64) *uint64 { return &n }

// Each rule of CheckSigned on its own: the field a signed intent differs in
// is named, and what stays within the queued bounds passes.
func TestCheckSigned(t *testing.T) {
	account := Intent{Chain: "ETH", Network: "mainnet", ChainID: "1", Signers: []string{"0xa"},
		Transfers: []Transfer{{To: "0xb", Amount: "5"}}, Sequence: seq(3),
		Fee: &Fee{Max: "100", GasPrice: "10", MaxPriorityFeePerGas: "2", GasLimit: "10"}}
	utxo := Intent{Chain: "BTC", Network: "testnet", Signers: []string{"tb1a", "tb1b"},
		Transfers: []Transfer{{To: "tb1c", Amount: "7"}, {To: "tb1a", Amount: "2", Change: true}},
		Fee:       &Fee{Max: "1"}, Memo: "cafe", Inputs: []string{"ab:0", "cd:1"}}
	signedUTXO := func(edit func(*Intent)) Intent {
		s := utxo
		s.Fee = nil
		s.Signers = []string{"tb1a"} // tb1b spends a taproot output: no key shown
		edit(&s)
		return s
	}
	signedAccount := func(edit func(*Intent)) Intent {
		s := account
		f := *account.Fee
		s.Fee = &f
		edit(&s)
		return s
	}
	for _, c := range []struct {
		name           string
		queued, signed Intent
		field          string
	}{
		{"same", account, signedAccount(func(*Intent) {}), ""},
		{"lower fees", account, signedAccount(func(s *Intent) { s.Fee = &Fee{Max: "99", GasPrice: "9", MaxPriorityFeePerGas: "1", GasLimit: "10"} }), ""},
		{"network", account, signedAccount(func(s *Intent) { s.Network = "testnet" }), "chain"},
		{"chain id", account, signedAccount(func(s *Intent) { s.ChainID = "5" }), "chainId"},
		{"chain id filled", signedAccount(func(q *Intent) { q.ChainID = "" }), signedAccount(func(s *Intent) { s.ChainID = "5" }), ""},
		{"stranger", account, signedAccount(func(s *Intent) { s.Signers = []string{"0xz"} }), "signers"},
		{"no signer shown", account, signedAccount(func(s *Intent) { s.Signers = nil }), "signers"},
		{"left to the key", signedAccount(func(q *Intent) { q.Signers = []string{} }), account, ""},
		{"amount", account, signedAccount(func(s *Intent) { s.Transfers = []Transfer{{To: "0xb", Amount: "6"}} }), "transfers"},
		{"asset", account, signedAccount(func(s *Intent) { s.Transfers = []Transfer{{To: "0xb", Amount: "5", Asset: "0xt"}} }), "transfers"},
		{"extra transfer", account, signedAccount(func(s *Intent) { s.Transfers = append(s.Transfers, Transfer{To: "0xb", Amount: "1"}) }), "transfers"},
		{"call", account, signedAccount(func(s *Intent) { s.Calls = []Call{{Contract: "0xb", Data: "0x01"}} }), "calls"},
		{"memo", account, signedAccount(func(s *Intent) { s.Memo = "x" }), "memo"},
		{"fee max", account, signedAccount(func(s *Intent) { s.Fee.Max = "101" }), "fee.max"},
		{"gas price", account, signedAccount(func(s *Intent) { s.Fee.GasPrice = "11" }), "fee.gasPrice"},
		{"tip", account, signedAccount(func(s *Intent) { s.Fee.MaxPriorityFeePerGas = "3" }), "fee.maxPriorityFeePerGas"},
		{"tip missing", account, signedAccount(func(s *Intent) { s.Fee.MaxPriorityFeePerGas = "" }), "fee.maxPriorityFeePerGas"},
		{"gas limit", account, signedAccount(func(s *Intent) { s.Fee.GasLimit = "11" }), "fee.gasLimit"},
		{"fee asset", account, signedAccount(func(s *Intent) { s.Fee.Asset = "0xt" }), "fee.asset"},
		{"fee unknown", account, signedAccount(func(s *Intent) { s.Fee = nil }), "fee"},
		{"fee left out", signedAccount(func(q *Intent) { q.Fee = nil }), signedAccount(func(s *Intent) { s.Fee.Max = "1000" }), ""},
		{"nonce", account, signedAccount(func(s *Intent) { s.Sequence = seq(4) }), "sequence"},
		{"nonce missing", account, signedAccount(func(s *Intent) { s.Sequence = nil }), "sequence"},
		{"nonce filled", signedAccount(func(q *Intent) { q.Sequence = nil }), signedAccount(func(s *Intent) { s.Sequence = seq(9) }), ""},
		{"utxo honest", utxo, signedUTXO(func(*Intent) {}), ""},
		{"utxo change unmarked", utxo, signedUTXO(func(s *Intent) { s.Transfers = []Transfer{{To: "tb1c", Amount: "7"}, {To: "tb1a", Amount: "2"}} }), ""},
		{"utxo stranger", utxo, signedUTXO(func(s *Intent) { s.Signers = []string{"tb1a", "tb1z"} }), "signers"},
		{"utxo outpoint", utxo, signedUTXO(func(s *Intent) { s.Inputs = []string{"ab:0", "cd:2"} }), "inputs"},
		{"utxo input order", utxo, signedUTXO(func(s *Intent) { s.Inputs = []string{"cd:1", "ab:0"} }), "inputs"},
	} {
		err := CheckSigned(c.queued, c.signed)
		var mm *MismatchError
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.field != "" && (!errors.As(err, &mm) || mm.Field != c.field):
			t.Errorf("%s: %v, want a mismatch of %s", c.name, err, c.field)
		}
	}
}
