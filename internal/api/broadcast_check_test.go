package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/vectors"
)

// The `abandon … about` mnemonic's ETH key at index 0 (shared vectors) and
// its address, and another key.
const (
	checkKey0  = "0xe01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc"
	checkFrom0 = "0xb157e208264ff9edebbcb1d36e66d156df8afa6c"
	checkKey1  = "0x2a0c5a4e1e5a5a3b0b2a2c5f6c7f2d0e0f4c5e6d7a8b9c0d1e2f3a4b5c6d7e8f"
	checkTo    = "0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6"
)

// checkEnv is a server with the real chain codecs, 1337 accepted as an ETH
// mainnet chain id beside 1 (so that a signed transaction can carry a chain
// id of the network that is not the queued one's), and node doubles that
// count what they are sent.
func checkEnv(t *testing.T) (*env, *fakeNode, *fakeNode) {
	t.Helper()
	e := newEnv(t, func(c *Config) {
		c.ExtraChainIDs = map[bool]map[string][]uint64{false: {"ETH": {1337}}}
	})
	e.srv.lookupChain = chains.Lookup
	eth, btc := &fakeNode{txID: "0xeth-tx-id"}, &fakeNode{txID: "btc-tx-id"}
	e.nodes.Set("ETH", false, eth)
	e.nodes.Set("BTC", true, btc)
	return e, eth, btc
}

// ethTx is a Tatum ETH transaction from checkFrom0 with fields replaced.
func ethTx(t *testing.T, edit map[string]any) string {
	t.Helper()
	fields := map[string]any{"from": checkFrom0, "to": checkTo, "value": "1000", "nonce": "0x5", "gas": 21000,
		"gasPrice": "20000000000", "chainId": 1}
	for k, v := range edit {
		if v == nil {
			delete(fields, k)
		} else {
			fields[k] = v
		}
	}
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ethSign(t *testing.T, serialized, key string) string {
	t.Helper()
	s, err := evm.ETH.Sign(context.Background(), chain.SignRequest{Serialized: serialized, Keys: []string{key}, ExtraChainIDs: []uint64{1337}})
	if err != nil {
		t.Fatal(err)
	}
	return s.TxData
}

func (e *env) broadcastBody(slug, key, id, txData string) resp {
	e.t.Helper()
	return e.do("POST", "/v3/"+slug+"/broadcast", key, `{"txData":"`+txData+`","signatureId":"`+id+`"}`)
}

// An ETH transaction signed with another recipient, amount, data, chain id,
// signer, fee or nonce than the queued one is refused with 403
// broadcast.mismatch naming the field, and neither stored nor sent; a
// txData that is no ETH transaction of the network is a 400. The honest one
// is broadcast and completes the transaction, and a retry of it answers the
// same without a second submission.
func TestBroadcastChecksEVM(t *testing.T) {
	e, node, _ := checkEnv(t)
	var created struct{ ID string }
	e.do("POST", "/v3/kms", e.keyA, map[string]any{"chain": "ETH", "serializedTransaction": ethTx(t, nil), "hashes": []string{sigA}}).want(t, 200, &created)
	id := created.ID
	for _, c := range []struct {
		name, txData, field string
	}{
		{"recipient", ethSign(t, ethTx(t, map[string]any{"to": "0x0000000000000000000000000000000000000bad"}), checkKey0), "transfers"},
		{"amount", ethSign(t, ethTx(t, map[string]any{"value": "1001"}), checkKey0), "transfers"},
		{"data", ethSign(t, ethTx(t, map[string]any{"data": "0x01", "gas": 30000, "gasPrice": "1"}), checkKey0), "calls"},
		{"chain id", ethSign(t, ethTx(t, map[string]any{"chainId": 1337}), checkKey0), "chainId"},
		{"signer", ethSign(t, ethTx(t, map[string]any{"from": nil}), checkKey1), "signers"},
		{"gas price", ethSign(t, ethTx(t, map[string]any{"gasPrice": "20000000001"}), checkKey0), "fee.max"},
		{"gas limit", ethSign(t, ethTx(t, map[string]any{"gas": 21001, "gasPrice": "19000000000"}), checkKey0), "fee.gasLimit"},
		{"nonce", ethSign(t, ethTx(t, map[string]any{"nonce": 6}), checkKey0), "sequence"},
	} {
		er := e.broadcastBody("ethereum", e.keyA, id, c.txData).wantError(t, 403, CodeTxMismatch)
		if len(er.Data) != 1 || !strings.HasPrefix(er.Data[0], c.field+": ") || !strings.Contains(er.Message, " "+c.field+" differs") {
			t.Errorf("%s: %+v, want field %s", c.name, er, c.field)
		}
	}
	honest := ethSign(t, ethTx(t, nil), checkKey0)
	for _, bad := range []string{"0xsigned", "0x" + strings.Repeat("00", 4), honest[:len(honest)-2]} {
		e.broadcastBody("ethereum", e.keyA, id, bad).wantError(t, 400, CodeValidation)
	}
	// Another network's chain id is a transaction this key's network does not take.
	other, err := evm.ETH.Sign(context.Background(), chain.SignRequest{Serialized: ethTx(t, map[string]any{"chainId": 11155111}), Testnet: true, Keys: []string{checkKey0}})
	if err != nil {
		t.Fatal(err)
	}
	er := e.broadcastBody("ethereum", e.keyA, id, other.TxData).wantError(t, 400, CodeValidation)
	if !strings.Contains(er.Data[0], "txData: ") {
		t.Fatalf("data %q", er.Data)
	}
	if len(node.sent) != 0 {
		t.Fatalf("the node was sent %d transactions", len(node.sent))
	}
	if d, _ := e.store.TxData(context.Background(), e.idA, id); d != "" {
		t.Fatalf("a refused txData was stored: %s", d)
	}

	var out broadcastResponse
	e.broadcastBody("ethereum", e.keyA, id, honest).want(t, 200, &out)
	e.broadcastBody("ethereum", e.keyA, id, honest).want(t, 200, &out)
	if out != (broadcastResponse{TxID: "0xeth-tx-id", Completed: true}) || len(node.sent) != 1 || node.sent[0] != honest {
		t.Fatalf("honest: %+v, sent %d", out, len(node.sent))
	}
}

// Fees are bounds, not values: a signed transaction paying less, or an
// EIP-1559 one whose fee cap is the queued gas price, passes. A queued
// transaction without a nonce (stored before the server allocated
// sequences) is signed with the nonce a Tatum signer fills, and passes.
func TestBroadcastCheckAllows(t *testing.T) {
	e, node, _ := checkEnv(t)
	for i, c := range []struct{ queued, signed string }{
		{ethTx(t, nil), ethTx(t, map[string]any{"gasPrice": "1"})},
		{ethTx(t, nil), ethTx(t, map[string]any{"gasPrice": nil, "maxFeePerGas": "20000000000", "maxPriorityFeePerGas": "1"})},
		{ethTx(t, map[string]any{"nonce": nil}), ethTx(t, map[string]any{"nonce": 41})},
		{ethTx(t, map[string]any{"nonce": nil, "gas": nil, "gasPrice": nil, "chainId": nil}), ethTx(t, map[string]any{"nonce": 0})},
	} {
		ids, err := e.store.Create(context.Background(), e.idA, pending.NewTx{Chain: "ETH", SerializedTransaction: c.queued, Hashes: []string{sigA}})
		if err != nil {
			t.Fatal(err)
		}
		e.broadcastBody("ethereum", e.keyA, ids[0], ethSign(t, c.signed, checkKey0)).want(t, 200, nil)
		if len(node.sent) != i+1 {
			t.Fatalf("#%d: sent %d", i, len(node.sent))
		}
	}
}

// A BTC transaction spending other outpoints, paying another recipient or
// amount, carrying other data or revealing another key than the queued
// PSBT is refused with 403 broadcast.mismatch naming the field, and never
// reaches the node; the reference's honest signature is broadcast. A UTXO
// fee cannot rise without an output or an input changing: it is named so.
func TestBroadcastChecksUTXO(t *testing.T) {
	e, _, node := checkEnv(t)
	var row vectors.Signing
	for _, v := range vectors.SigningFor("BTC") {
		if v.Format == "native" && v.Testnet {
			row = v
			break
		}
	}
	var exp struct{ Signed string }
	if err := json.Unmarshal(row.Expected, &exp); err != nil {
		t.Fatal(err)
	}
	var out struct{ ID string }
	e.do("POST", "/v3/kms", e.keyTest, map[string]any{"chain": "BTC", "serializedTransaction": row.PendingTransaction.SerializedTransaction,
		"hashes": []string{sigA}}).want(t, 200, &out)
	edit := func(f func(tx *wire.MsgTx)) string {
		raw, _ := hex.DecodeString(exp.Signed)
		tx := new(wire.MsgTx)
		if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		f(tx)
		var b bytes.Buffer
		if err := tx.Serialize(&b); err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(b.Bytes())
	}
	memo, _ := txscript.NullDataScript([]byte("x"))
	// The secp256k1 generator: a public key no wallet of the row holds.
	g, _ := hex.DecodeString("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
	for _, c := range []struct {
		name, field string
		edit        func(tx *wire.MsgTx)
	}{
		{"recipient", "transfers", func(tx *wire.MsgTx) { tx.TxOut[0].PkScript = append([]byte{0, 20}, bytes.Repeat([]byte{0x11}, 20)...) }},
		{"amount", "transfers", func(tx *wire.MsgTx) { tx.TxOut[0].Value++ }},
		{"fee", "transfers", func(tx *wire.MsgTx) { tx.TxOut[len(tx.TxOut)-1].Value -= 1000 }},
		{"data", "memo", func(tx *wire.MsgTx) { tx.AddTxOut(wire.NewTxOut(0, memo)) }},
		{"outpoint", "inputs", func(tx *wire.MsgTx) { tx.TxIn[0].PreviousOutPoint.Index++ }},
		{"signer", "signers", func(tx *wire.MsgTx) { tx.TxIn[0].Witness[len(tx.TxIn[0].Witness)-1] = g }},
	} {
		er := e.broadcastBody("bitcoin", e.keyTest, out.ID, edit(c.edit)).wantError(t, 403, CodeTxMismatch)
		if len(er.Data) != 1 || !strings.HasPrefix(er.Data[0], c.field+": ") {
			t.Errorf("%s: %+v, want field %s", c.name, er, c.field)
		}
	}
	e.broadcastBody("bitcoin", e.keyTest, out.ID, exp.Signed[:len(exp.Signed)-2]).wantError(t, 400, CodeValidation)
	if len(node.sent) != 0 {
		t.Fatalf("the node was sent %d transactions", len(node.sent))
	}
	e.broadcastBody("bitcoin", e.keyTest, out.ID, exp.Signed).want(t, 200, nil)
	e.broadcastBody("bitcoin", e.keyTest, out.ID, exp.Signed).want(t, 200, nil)
	if len(node.sent) != 1 || node.sent[0] != exp.Signed {
		t.Fatalf("honest: sent %v", node.sent)
	}
}

// signedStub gives a chain without a signed-transaction decoder one that
// answers fixed intents, as the account chains' codecs will.
type signedStub struct {
	chain.Chain
	queued, signed intent.Intent
}

func (s signedStub) Intent(string, bool, ...uint64) (intent.Intent, error) { return s.queued, nil }
func (s signedStub) SignedIntent(string, bool, ...uint64) (intent.Intent, error) {
	return s.signed, nil
}

// The check applies to any chain whose codec decodes signed transactions,
// found by type assertion: a chain without one broadcasts as before.
func TestBroadcastCheckFollowsTheCodec(t *testing.T) {
	e := newEnv(t)
	node := &fakeNode{txID: "xrp-tx-id"}
	e.nodes.Set("XRP", false, node)
	queued := intent.Intent{Chain: "XRP", Network: "mainnet", Signers: []string{"rA"}, Transfers: []intent.Transfer{{To: "rB", Amount: "5"}}}
	signed := queued
	signed.Transfers = []intent.Transfer{{To: "rB", Amount: "6"}}
	withStub := func(code string) (chain.Chain, error) {
		c, err := chains.Lookup(code)
		if err != nil {
			return nil, err
		}
		return signedStub{plainChain{c}, queued, signed}, nil
	}
	id := e.create(e.keyA, "XRP", sigA)
	e.broadcastBody("xrp", e.keyA, id, "signed").want(t, 200, nil) // plainChain: not checked
	id = e.create(e.keyA, "XRP", sigA)
	e.srv.lookupChain = withStub
	e.broadcastBody("xrp", e.keyA, id, "signed").wantError(t, 403, CodeTxMismatch)
	if len(node.sent) != 1 {
		t.Fatalf("sent %d", len(node.sent))
	}
}
