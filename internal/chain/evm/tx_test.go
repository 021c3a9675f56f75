package evm

import (
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/vectors"
)

func TestValidateVectors(t *testing.T) {
	for _, v := range vectors.Signings() {
		c := byCode(v.Chain)
		if c == nil {
			continue
		}
		tx, err := c.ParseTx(v.PendingTransaction.SerializedTransaction)
		if err != nil {
			t.Errorf("%s/%s: %v", v.Chain, v.Format, err)
			continue
		}
		if tx.Format != v.Format {
			t.Errorf("%s: format %s, want %s", v.Chain, tx.Format, v.Format)
		}
		if err := c.ValidateTx(v.PendingTransaction.SerializedTransaction, v.Testnet); err != nil {
			t.Errorf("%s/%s: %v", v.Chain, v.Format, err)
		}
		// The other network's wallet must not accept it.
		if err := c.ValidateTx(v.PendingTransaction.SerializedTransaction, !v.Testnet); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("%s/%s on the other network: %v", v.Chain, v.Format, err)
		}
	}
}

func TestValidateRefusesGarbage(t *testing.T) {
	const to = `"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6"`
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"hello", "JSON object"},
		{"[1,2]", "JSON object"},
		{"{", "JSON"},
		{"{}", "`to` is missing"},
		{`{` + to + `,"value":"1"} {}`, "trailing"},
		{`{` + to + `,"value":"-1"}`, "value"},
		{`{` + to + `,"value":"1.5"}`, "value"},
		{`{` + to + `,"value":"1e18"}`, "value"},
		{`{` + to + `,"value":"0x"}`, "value"},
		{`{` + to + `,"value":"0x1` + strings.Repeat("0", 64) + `"}`, "value"},
		{`{` + to + `,"nonce":"0x10000000000000000"}`, "nonce"},
		{`{` + to + `,"nonce":true}`, "nonce"},
		{`{"to":"0x1234","value":"1"}`, "to"},
		{`{"to":"xdc68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1"}`, "to"},
		{`{` + to + `,"data":"abcd"}`, "data"},
		{`{` + to + `,"data":"0xabc"}`, "data"},
		{`{` + to + `,"chainId":0}`, "chain id"},
		{`{` + to + `,"gasPrice":"1","maxFeePerGas":"2"}`, "exclusive"},
		{`{` + to + `,"gas":1,"gasLimit":2}`, "differ"},
		{`{` + to + `,"type":2,"gasPrice":"1"}`, "type"},
		{`{` + to + `,"feeCurrency":"0x765de816845861e75a25fca122bb6898b8b1282a"}`, "CELO"},
		{`{` + to + `,"gasprice":"1"}`, "unknown field"},
		{"0x", "empty"},
		{"0xzz", "hex"},
		{"0x0", "hex"},
		{"0x03c0", "type 0x03"},
		{"0x02c0", "EIP-1559"},
		{"0x01c0", "EIP-2930"},
		{"0xc0", "legacy"},
		// pre-EIP-155 legacy: six fields, no chain id
		{"0xe0018203e88252089468cbc14b4818a4e84a8ff49bbdc2019b6cb14cf68203e880", "EIP-155"},
		// a signed legacy transaction (first ETH vector's output)
		{"0xf86f078504a817c8018252089468cbc14b4818a4e84a8ff49bbdc2019b6cb14cf687038d7ea4c68000808401546d71a0db4f4c32f5d6bf34a7444e58c0ab4bdf76ab7e4f79d93602ed2b6d75c089d728a05addf388af7ec698b4f36aaf6e4c09476ba395ad6c197245c53c1a7e6b66797a", "already signed"},
		// unsigned legacy plus a trailing byte
		{"0xea11847735940182520894" + "68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6" + "8701c6bf5263400080018080" + "00", "legacy"},
	} {
		err := ETH.ValidateTx(tc.in, false)
		if !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ValidateTx(%.60q) = %v, want an invalid-tx error mentioning %q", tc.in, err, tc.want)
		}
	}
	// XDC takes its own address form, and a Tatum config with `from: 0` is fine.
	if err := XDC.ValidateTx(`{"from":0,"to":"xdc68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"1","chainId":50}`, false); err != nil {
		t.Errorf("XDC address: %v", err)
	}
	// A contract deployment has data and no `to`.
	if err := ETH.ValidateTx(`{"data":"0x6080","value":"0","chainId":1}`, false); err != nil {
		t.Errorf("deployment: %v", err)
	}
}

func FuzzParseTx(f *testing.F) {
	for _, v := range vectors.Signings() {
		if byCode(v.Chain) != nil {
			f.Add(v.PendingTransaction.SerializedTransaction)
		}
	}
	f.Add(`{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"0x1","accessList":[{"address":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","storageKeys":[]}]}`)
	f.Add("0x01c0")
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []*Chain{ETH, CELO, XDC} {
			tx, err := c.ParseTx(s)
			if err != nil {
				if !errors.Is(err, chain.ErrInvalidTx) {
					t.Fatalf("error does not wrap ErrInvalidTx: %v", err)
				}
				continue
			}
			if tx.Format != FormatTatum && tx.Format != FormatNative {
				t.Fatalf("format %q", tx.Format)
			}
			_ = c.ValidateTx(s, false)
			if len(tx.Missing()) == 0 {
				// A complete transaction must sign (or be refused for its network), never panic.
				_, _ = signOneNoCheck(c, s)
			}
		}
	})
}
