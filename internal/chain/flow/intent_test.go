package flow

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

// FLOW has no signing vector: restTx's transaction has known values (gas
// limit 9999, sequence 12, acctA proposing and authorizing, acctB paying,
// one script and one argument) and the intent must show them.
func TestIntentRest(t *testing.T) {
	_, pub := flowKey(t, 0)
	ser := restTx(acctB, map[string]any{"address": acctA, "key_index": "0", "public_key": pub})
	got, err := FLOW.Intent(ser, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Signers) != 2 || got.Signers[0] != "0x"+acctA || got.Signers[1] != "0x"+acctB {
		t.Errorf("signers %q", got.Signers)
	}
	if got.Fee == nil || got.Fee.GasLimit != "9999" || got.Fee.Max != "" || got.Sequence == nil || *got.Sequence != 12 {
		t.Errorf("fee %+v sequence %v", got.Fee, got.Sequence)
	}
	var in map[string]json.RawMessage
	_ = json.Unmarshal([]byte(ser), &in)
	var call struct {
		Script    string
		Arguments []string
	}
	if len(got.Calls) != 1 || got.Calls[0].Method != "script" || json.Unmarshal([]byte(got.Calls[0].Data), &call) != nil {
		t.Fatalf("calls %+v", got.Calls)
	}
	script, _ := base64.StdEncoding.DecodeString(call.Script)
	arg, _ := base64.StdEncoding.DecodeString(call.Arguments[0])
	if string(script) != "transaction(amount: UFix64) { prepare(a: AuthAccount) {} }" || string(arg) != `{"type":"UFix64","value":"1.0"}` {
		t.Errorf("script %q argument %q", script, arg)
	}
	if len(got.Transfers) != 0 || got.Network != "testnet" {
		t.Errorf("transfers %+v network %s", got.Transfers, got.Network)
	}
}

// What Sign refuses before any key is involved, Intent refuses.
func TestIntentRefusals(t *testing.T) {
	for name, ser := range map[string]string{
		"no signer":  restTx(acctB, nil),
		"tatum form": `{"type":4,"body":{"to":"0x01","amount":"1"}}`,
	} {
		if _, err := FLOW.Intent(ser, false); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func FuzzIntent(f *testing.F) {
	_, pub := flowKey(f, 0)
	chaintest.FuzzIntent(f, FLOW, restTx(acctB, map[string]any{"address": acctA, "key_index": "0", "public_key": pub}))
}
