package flow

import (
	"context"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/vectors"
)

// No FLOW signing vector exists (Tatum's SDK builds, signs and sends FLOW
// transactions through a node). The encoding is checked instead against the
// golden messages and ids of the Flow Go SDK's own tests (transaction_test.go:
// TestTransaction_RLPMessages, shared with the Flow JavaScript SDK, and
// ExampleTransaction), and every signature made here is verified with
// go-ethereum's secp256k1 over the domain-tagged message.

func addr(h string) [8]byte {
	var a [8]byte
	b, _ := hex.DecodeString(strings.Repeat("0", 16-len(h)) + h)
	copy(a[:], b)
	return a
}

// sdkBaseTx is the Flow Go SDK's baseTx().
func sdkBaseTx() *Tx {
	sig, _ := hex.DecodeString("f7225388c1d69d57e6251c9fda50cbbf9e05131e5adb81e5aa0422402f048162")
	ref, _ := hex.DecodeString("f0e4c2f76c58916ec258f246851bea091d14d4247a2fc3e18694461b1816e13b")
	t := &Tx{Script: []byte(`transaction { execute { log("Hello, World!") } }`), GasLimit: 42,
		ProposalAddress: addr("01"), ProposalKeyIndex: 4, ProposalSequence: 10, Payer: addr("01"),
		Authorizers: [][8]byte{addr("01")}, PayloadSignatures: []Signature{{addr("01"), 4, sig}}}
	copy(t.ReferenceBlockID[:], ref)
	return t
}

func TestRLPMessagesGolden(t *testing.T) {
	const script = "b07472616e73616374696f6e207b2065786563757465207b206c6f67282248656c6c6f2c20576f726c64212229207d207d"
	const tail = "a0f0e4c2f76c58916ec258f246851bea091d14d4247a2fc3e18694461b1816e13b2a880000000000000001040a880000000000000001"
	const sigs = "e4e38004a0f7225388c1d69d57e6251c9fda50cbbf9e05131e5adb81e5aa0422402f048162"
	cases := []struct {
		name              string
		edit              func(*Tx)
		payload, envelope string
	}{
		{"complete", func(*Tx) {}, "f872" + script + "c0" + tail + "c9880000000000000001",
			"f899f872" + script + "c0" + tail + "c9880000000000000001" + sigs},
		{"empty script", func(t *Tx) { t.Script = nil }, "f84280c0" + tail + "c9880000000000000001",
			"f869f84280c0" + tail + "c9880000000000000001" + sigs},
		{"multiple authorizers", func(t *Tx) { t.Authorizers = append(t.Authorizers, addr("02")) },
			"f87b" + script + "c0" + tail + "d2880000000000000001880000000000000002",
			"f8a2f87b" + script + "c0" + tail + "d2880000000000000001880000000000000002" + sigs},
		{"single argument", func(t *Tx) { t.Arguments = [][]byte{[]byte("{\"type\":\"String\",\"value\":\"foo\"}\n")} },
			"f893" + script + "e1a07b2274797065223a22537472696e67222c2276616c7565223a22666f6f227d0a" + tail + "c9880000000000000001",
			"f8baf893" + script + "e1a07b2274797065223a22537472696e67222c2276616c7565223a22666f6f227d0a" + tail + "c9880000000000000001" + sigs},
	}
	for _, c := range cases {
		tx := sdkBaseTx()
		c.edit(tx)
		p, err := tx.PayloadMessage()
		if err != nil || hex.EncodeToString(p) != c.payload {
			t.Errorf("%s payload\n got %x %v\nwant %s", c.name, p, err, c.payload)
		}
		e, err := tx.EnvelopeMessage()
		if err != nil || hex.EncodeToString(e) != c.envelope {
			t.Errorf("%s envelope\n got %x %v\nwant %s", c.name, e, err, c.envelope)
		}
	}
}

// The transaction ids of the Flow Go SDK's ExampleTransaction, before and after signing.
func TestIDGolden(t *testing.T) {
	adrian, blaine := addr("f8d6e0586b0a20c7"), addr("ee82856bf20e2aa6")
	tx := &Tx{Script: []byte(`transaction { execute { log("Hello, World!") } }`), GasLimit: 42,
		ProposalAddress: adrian, ProposalKeyIndex: 3, ProposalSequence: 42, Payer: blaine, Authorizers: [][8]byte{adrian}}
	tx.ReferenceBlockID[0], tx.ReferenceBlockID[1] = 1, 2
	if id, err := tx.ID(); err != nil || id != "8c362dd8b7553d48284cecc94d2ab545d513b29f930555632390fff5ca9772ee" {
		t.Errorf("unsigned id %s %v", id, err)
	}
	tx.PayloadSignatures = []Signature{{adrian, 3, []byte{1}}, {adrian, 2, []byte{2}}}
	tx.EnvelopeSignatures = []Signature{{blaine, 7, []byte{3}}}
	if err := tx.sortSignatures(); err != nil {
		t.Fatal(err)
	}
	if tx.PayloadSignatures[0].KeyIndex != 2 {
		t.Error("payload signatures not sorted by key index")
	}
	if id, err := tx.ID(); err != nil || id != "d1a2c58aebfce1050a32edf3568ec3b69cb8637ae090b5f7444ca6b2a8de8f8b" {
		t.Errorf("signed id %s %v", id, err)
	}
}

// flowKey returns a FLOW private key and its public key ("address") from the derivation vectors.
func flowKey(t testing.TB, n int) (string, string) {
	for _, v := range vectors.Derivations() {
		if v.Chain == "FLOW" && len(v.Indices) > n {
			return v.Indices[n].PrivateKey, v.Indices[n].Address
		}
	}
	t.Fatal("no FLOW derivation vector")
	return "", ""
}

const (
	acctA = "8c5303eaa26202d6"
	acctB = "7e60df042a9c0868"
)

// restTx is a transfer in the Access API REST shape; proposer and authorizer
// are acctA, payer is payer.
func restTx(payer string, signer map[string]any) string {
	o := map[string]any{
		"script":             base64.StdEncoding.EncodeToString([]byte("transaction(amount: UFix64) { prepare(a: AuthAccount) {} }")),
		"arguments":          []string{base64.StdEncoding.EncodeToString([]byte(`{"type":"UFix64","value":"1.0"}`))},
		"reference_block_id": "7bc42fe85d32ca513769a74f97f7e1a7bad6c9407f0d934c2aa645ef9cf613c7",
		"gas_limit":          "9999", "payer": payer,
		"proposal_key":        map[string]string{"address": acctA, "key_index": "0", "sequence_number": "12"},
		"authorizers":         []string{acctA},
		"payload_signatures":  []any{},
		"envelope_signatures": []any{},
	}
	if signer != nil {
		o["signer"] = signer
	}
	b, _ := json.Marshal(o)
	return string(b)
}

func verify(t *testing.T, pubHex, algo string, msg, sig []byte) {
	t.Helper()
	pub, _ := hex.DecodeString("04" + pubHex)
	m := append(append([]byte{}, transactionDomainTag...), msg...)
	var h []byte
	if algo == HashSHA2 {
		s := sha256.Sum256(m)
		h = s[:]
	} else {
		s := sha3.Sum256(m)
		h = s[:]
	}
	if !crypto.VerifySignature(pub, h, sig) {
		t.Errorf("signature does not verify (%s)", algo)
	}
}

func TestSignPayerEnvelope(t *testing.T) {
	priv, pub := flowKey(t, 0)
	for _, algo := range []string{HashSHA3, HashSHA2} {
		ser := restTx(acctA, map[string]any{"address": acctA, "key_index": "0", "public_key": pub, "hash_algorithm": algo})
		got, err := FLOW.Sign(context.Background(), chain.SignRequest{Serialized: ser, Keys: []string{priv}})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(got.TxData, "signer") || strings.Contains(got.TxData, pub) {
			t.Error("output keeps the signer member")
		}
		tx, _, err := ParseTx(got.TxData)
		if err != nil {
			t.Fatal(err)
		}
		if len(tx.EnvelopeSignatures) != 1 || len(tx.PayloadSignatures) != 0 {
			t.Fatalf("want one envelope signature, got %d/%d", len(tx.PayloadSignatures), len(tx.EnvelopeSignatures))
		}
		env, _ := tx.EnvelopeMessage()
		verify(t, pub, algo, env, tx.EnvelopeSignatures[0].Signature)
		if id, _ := tx.ID(); id != got.TxID || len(id) != 64 {
			t.Errorf("txId %s, recomputed %s", got.TxID, id)
		}
		again, _ := FLOW.Sign(context.Background(), chain.SignRequest{Serialized: ser, Keys: []string{priv}})
		if again != got {
			t.Error("signing twice gave different bytes")
		}
	}
}

// Proposer-authorizer A signs the payload, then payer B signs the envelope over A's signature.
func TestSignTwoParties(t *testing.T) {
	privA, pubA := flowKey(t, 0)
	privB, pubB := flowKey(t, 1)
	ctx := context.Background()
	ser := restTx(acctB, map[string]any{"address": acctA, "key_index": "0", "public_key": pubA})
	asB := func(s string) string {
		var o map[string]any
		_ = json.Unmarshal([]byte(s), &o)
		o["signer"] = map[string]any{"address": acctB, "key_index": "3", "public_key": pubB}
		b, _ := json.Marshal(o)
		return string(b)
	}
	if _, err := FLOW.Sign(ctx, chain.SignRequest{Serialized: asB(ser), Keys: []string{privB}}); !errors.Is(err, chain.ErrInvalidTx) {
		t.Errorf("payer signing before the proposer: %v", err)
	}
	first, err := FLOW.Sign(ctx, chain.SignRequest{Serialized: ser, Keys: []string{privA}})
	if err != nil {
		t.Fatal(err)
	}
	second, err := FLOW.Sign(ctx, chain.SignRequest{Serialized: asB(first.TxData), Keys: []string{privB}})
	if err != nil {
		t.Fatal(err)
	}
	tx, _, err := ParseTx(second.TxData)
	if err != nil || len(tx.PayloadSignatures) != 1 || len(tx.EnvelopeSignatures) != 1 {
		t.Fatalf("signatures: %v", err)
	}
	p, _ := tx.PayloadMessage()
	verify(t, pubA, HashSHA3, p, tx.PayloadSignatures[0].Signature)
	e, _ := tx.EnvelopeMessage()
	verify(t, pubB, HashSHA3, e, tx.EnvelopeSignatures[0].Signature)
	if tx.EnvelopeSignatures[0].KeyIndex != 3 {
		t.Error("envelope signature key index")
	}
	if id, _ := tx.ID(); id != second.TxID || first.TxID == second.TxID {
		t.Errorf("txIds %s %s %s", first.TxID, second.TxID, id)
	}
}

func TestSignRefusals(t *testing.T) {
	priv, pub := flowKey(t, 0)
	_, otherPub := flowKey(t, 1)
	ctx := context.Background()
	cases := map[string]struct {
		ser  string
		want error
	}{
		"another public key":       {restTx(acctA, map[string]any{"address": acctA, "key_index": "0", "public_key": otherPub}), chain.ErrWrongSigner},
		"not proposer nor payer":   {restTx(acctA, map[string]any{"address": acctB, "key_index": "0", "public_key": pub}), chain.ErrWrongSigner},
		"not the proposal key":     {restTx(acctB, map[string]any{"address": acctA, "key_index": "1", "public_key": pub}), chain.ErrWrongSigner},
		"no signer":                {restTx(acctA, nil), chain.ErrInvalidTx},
		"unknown hash":             {restTx(acctA, map[string]any{"address": acctA, "key_index": "0", "public_key": pub, "hash_algorithm": "KMAC128"}), chain.ErrInvalidTx},
		"Tatum form":               {`{"type":2,"body":{"to":"0x7e60df042a9c0868","amount":"1"}}`, ErrTatumForm},
		"signature by a stranger":  {strings.Replace(restTx(acctA, map[string]any{"address": acctA, "key_index": "0", "public_key": pub}), `"payload_signatures":[]`, `"payload_signatures":[{"address":"0000000000000009","key_index":"0","signature":"AQ=="}]`, 1), chain.ErrInvalidTx},
		"key index beyond 32 bits": {restTx(acctA, map[string]any{"address": acctA, "key_index": "4294967296", "public_key": pub}), chain.ErrInvalidTx},
	}
	for name, c := range cases {
		_, err := FLOW.Sign(ctx, chain.SignRequest{Serialized: c.ser, Keys: []string{priv}})
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
}

func FuzzParseTx(f *testing.F) {
	_, pub := flowKey(f, 0)
	f.Add(restTx(acctA, map[string]any{"address": acctA, "key_index": "0", "public_key": pub}))
	f.Add(native)
	f.Fuzz(func(t *testing.T, s string) {
		tx, _, err := ParseTx(s)
		if err != nil {
			return
		}
		if _, err := tx.ID(); err != nil {
			t.Fatalf("parsed transaction has no id: %v", err)
		}
	})
}

func FuzzSign(f *testing.F) {
	priv, pub := flowKey(f, 0)
	f.Add(restTx(acctA, map[string]any{"address": acctA, "key_index": "0", "public_key": pub}))
	f.Add(restTx(acctB, map[string]any{"address": acctA, "key_index": "0", "public_key": pub}))
	f.Fuzz(func(t *testing.T, s string) {
		_, err := FLOW.Sign(context.Background(), chain.SignRequest{Serialized: s, Keys: []string{priv}})
		if err != nil && !errors.Is(err, chain.ErrInvalidTx) && !errors.Is(err, chain.ErrWrongSigner) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	priv, pub := flowKey(b, 0)
	req := chain.SignRequest{Serialized: restTx(acctA, map[string]any{"address": acctA, "key_index": "0", "public_key": pub}), Keys: []string{priv}}
	for b.Loop() {
		if _, err := FLOW.Sign(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
