package flow

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

// setMember is s with one top-level member replaced.
func setMember(t *testing.T, s, key string, v any) string {
	t.Helper()
	var o map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		t.Fatal(err)
	}
	o[key], _ = json.Marshal(v)
	b, _ := json.Marshal(o)
	return string(b)
}

// FLOW has no signing vector: restTx is signed by the package's Signer with
// a derivation vector's key, first as proposer and payer alike (one
// envelope signature), then as proposer A with payer B signing after. The
// signed JSON decodes to the queued transaction's intent, its signers the
// accounts that signed; a changed script, argument, gas limit, sequence or
// signing account changes the intent or is refused; a queued transaction
// (with "signer", without signatures) is refused.
func TestSignedIntent(t *testing.T) {
	ctx := context.Background()
	privA, pubA := flowKey(t, 0)
	privB, pubB := flowKey(t, 1)

	alone := restTx(acctA, map[string]any{"address": acctA, "key_index": "0", "public_key": pubA})
	signed, err := FLOW.Sign(ctx, chain.SignRequest{Serialized: alone, Keys: []string{privA}})
	if err != nil {
		t.Fatal(err)
	}
	queued, err := FLOW.Intent(alone, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FLOW.SignedIntent(signed.TxData, false)
	if err != nil {
		t.Fatal(err)
	}
	chaintest.SameEffect(t, "alone", got, queued)
	if len(got.Signers) != 1 || got.Signers[0] != "0x"+acctA {
		t.Errorf("signers %q, want [0x%s]", got.Signers, acctA)
	}
	var o struct {
		EnvelopeSigs []map[string]string `json:"envelope_signatures"`
	}
	if err := json.Unmarshal([]byte(signed.TxData), &o); err != nil {
		t.Fatal(err)
	}
	otherSig := map[string]string{"address": acctB, "key_index": "0", "signature": o.EnvelopeSigs[0]["signature"]}
	seq := map[string]string{"address": acctA, "key_index": "0", "sequence_number": "13"}
	chaintest.WantTamperCaught(t, FLOW, "alone", []string{
		setMember(t, signed.TxData, "script", "dHJhbnNhY3Rpb24ge30="),
		setMember(t, signed.TxData, "arguments", []string{"e30="}),
		setMember(t, signed.TxData, "gas_limit", "10000"),
		setMember(t, signed.TxData, "proposal_key", seq),
		setMember(t, signed.TxData, "envelope_signatures", []any{otherSig}),
		setMember(t, signed.TxData, "envelope_signatures", []any{}),
		setMember(t, signed.TxData, "envelope_signatures", []any{map[string]string{"address": acctA, "key_index": "0", "signature": "AAEC"}}),
		alone,
	}, false, got)

	if _, err := FLOW.SignedIntent(setMember(t, signed.TxData, "envelope_signatures", []any{}), false); !errors.Is(err, chain.ErrInvalidTx) {
		t.Errorf("without signatures: %v, want ErrInvalidTx", err)
	}

	// Two parties: A's payload signature, then B's envelope signature.
	two := restTx(acctB, map[string]any{"address": acctA, "key_index": "0", "public_key": pubA})
	first, err := FLOW.Sign(ctx, chain.SignRequest{Serialized: two, Keys: []string{privA}})
	if err != nil {
		t.Fatal(err)
	}
	asB := setMember(t, first.TxData, "signer", map[string]any{"address": acctB, "key_index": "3", "public_key": pubB})
	second, err := FLOW.Sign(ctx, chain.SignRequest{Serialized: asB, Keys: []string{privB}})
	if err != nil {
		t.Fatal(err)
	}
	queued, err = FLOW.Intent(two, true)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]struct {
		txData  string
		signers string
	}{"payload only": {first.TxData, "0x" + acctA}, "both": {second.TxData, "0x" + acctA + " 0x" + acctB}} {
		got, err := FLOW.SignedIntent(s.txData, true)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		chaintest.SameEffect(t, name, got, queued)
		if strings.Join(got.Signers, " ") != s.signers {
			t.Errorf("%s: signers %q, want %s", name, got.Signers, s.signers)
		}
	}
	if _, err := FLOW.SignedIntent(`{"type":4,"body":{"to":"0x01","amount":"1"}}`, false); !errors.Is(err, chain.ErrInvalidTx) {
		t.Errorf("Tatum form: %v", err)
	}
}

func FuzzSignedIntent(f *testing.F) {
	priv, pub := flowKey(f, 0)
	signed, err := FLOW.Sign(context.Background(), chain.SignRequest{
		Serialized: restTx(acctA, map[string]any{"address": acctA, "key_index": "0", "public_key": pub}), Keys: []string{priv},
	})
	if err != nil {
		f.Fatal(err)
	}
	chaintest.FuzzSignedIntent(f, FLOW, signed.TxData)
}
