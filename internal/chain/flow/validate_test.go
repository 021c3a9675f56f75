package flow

import (
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

// No FLOW signing vector exists (Tatum's SDK builds, signs and sends FLOW
// transactions itself), so the valid inputs are written here: Tatum's
// {type, body} and the Access API REST transaction shape.
var valid = []string{
	`{"type":2,"body":{"account":"0x955cd3f17b2fd8ad","to":"0x7e60df042a9c0868","amount":"1.5","currency":"FLOW"}}`,
	`{"type":0,"body":{"account":"0x955cd3f17b2fd8ad","publicKey":"e71845e4cf0b0e0f658f738c0b429e88f823771c862f8807dc5a0beef5e092b1dfa9d61493c7a458382545ed42875c863cd5157843a307a063191532c6bfaee8"}}`,
	native,
}

const native = `{"script":"dHJhbnNhY3Rpb24ge30=","arguments":["eyJ0eXBlIjoiVUZpeDY0IiwidmFsdWUiOiIxLjAifQ=="],` +
	`"reference_block_id":"7bc42fe85d32ca513769a74f97f7e1a7bad6c9407f0d934c2aa645ef9cf613c7","gas_limit":"9999",` +
	`"payer":"8c5303eaa26202d6","proposal_key":{"address":"8c5303eaa26202d6","key_index":"0","sequence_number":"12"},` +
	`"authorizers":["8c5303eaa26202d6"],"payload_signatures":[],"envelope_signatures":[]}`

func garbage() []string {
	return append([]string{
		`{"type":9,"body":{}}`, `{"type":"TRANSFER","body":{}}`, `{"type":2}`, `{"type":2,"body":[]}`, `{"body":{}}`,
		strings.Replace(native, `"dHJhbnNhY3Rpb24ge30="`, `"%%%"`, 1),
		strings.Replace(native, `"reference_block_id":"7b`, `"reference_block_id":"7`, 1),
		strings.Replace(native, `"payer":"8c5303eaa26202d6"`, `"payer":"8c5303eaa26202"`, 1),
		strings.Replace(native, `"key_index":"0"`, `"key_index":"-1"`, 1),
		strings.Replace(native, `"authorizers":["8c5303eaa26202d6"]`, `"authorizers":"8c5303eaa26202d6"`, 1),
		strings.Replace(native, `"arguments":["eyJ`, `"arguments":["!eyJ`, 1),
		`{"script":"dHJhbnNhY3Rpb24ge30="}`,
	}, chaintest.CommonGarbage...)
}

func TestValidateTx(t *testing.T) {
	for _, v := range valid {
		for _, testnet := range []bool{false, true} {
			if err := FLOW.ValidateTx(v, testnet); err != nil {
				t.Errorf("valid FLOW transaction refused: %v", err)
			}
		}
	}
	for i, g := range garbage() {
		if err := FLOW.ValidateTx(g, false); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("garbage #%d: err = %v, want ErrInvalidTx", i, err)
		}
	}
}

func FuzzValidateTx(f *testing.F) {
	for _, s := range append(valid, garbage()...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { _ = FLOW.ValidateTx(s, false) })
}
