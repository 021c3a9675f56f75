package utxo

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/internal/chain"
)

// TestReplacement speeds up a transfer the builder made: the same inputs and
// sequences, the recipient's output untouched, the change lowered by the fee
// raise, which is at least the incremental relay fee for the replacement's
// size over the highest fee paid (BIP 125 rule 4), the node's rate when
// higher, or the caller's; and refuses what cannot be replaced.
func TestReplacement(t *testing.T) {
	c := BTC
	from := partyAt(t, c, abandonMnemonic, 0, Testnet)
	to := partyAt(t, c, abandonMnemonic, 9, Testnet)
	build := func(extra map[string]any) string {
		t.Helper()
		body := map[string]any{
			"fromAddress": []map[string]any{{"address": from.addr, "signatureId": walletA, "index": 0}},
			"to":          []map[string]any{{"address": to.addr, "value": json.Number("0.0003")}},
		}
		for k, v := range extra {
			body[k] = v
		}
		node := &fakeNode{rate: 2_000, unspent: map[string][]Unspent{hexOf(from.script): unspentOf(from, 0, 100_000)}}
		tr, err := c.Transfer(t.Context(), node, mustJSON(body), true)
		if err != nil {
			t.Fatal(err)
		}
		return tr.Serialized
	}
	queued := build(nil)
	orig := decodePSBT(t, queued).UnsignedTx
	if len(orig.TxOut) != 2 || !bytes.Equal(orig.TxOut[1].PkScript, from.script) {
		t.Fatalf("the transfer has no change to the sender: %+v", orig.TxOut)
	}
	paid := int64(100_000) - orig.TxOut[0].Value - orig.TxOut[1].Value
	// One P2WPKH input, two outputs: 141 vbytes, which the builder's fee at 2 sat/vB tells.
	vsize := paid / 2

	replace := func(node any, r chain.ReplaceRequest) (*wire.MsgTx, int64, error) {
		t.Helper()
		if r.Serialized == "" {
			r.Serialized = queued
		}
		s, err := c.Replacement(t.Context(), node, r)
		if err != nil {
			return nil, 0, err
		}
		if err := c.ValidateTx(s, true); err != nil {
			t.Fatalf("the replacement is refused by the codec: %v", err)
		}
		tx := decodePSBT(t, s).UnsignedTx
		if len(tx.TxIn) != len(orig.TxIn) || tx.TxIn[0].PreviousOutPoint != orig.TxIn[0].PreviousOutPoint ||
			tx.TxIn[0].Sequence != orig.TxIn[0].Sequence || tx.TxOut[0].Value != orig.TxOut[0].Value ||
			!bytes.Equal(tx.TxOut[0].PkScript, orig.TxOut[0].PkScript) || !bytes.Equal(tx.TxOut[1].PkScript, from.script) {
			t.Fatalf("the replacement changed more than the change: %+v", tx)
		}
		return tx, 100_000 - tx.TxOut[0].Value - tx.TxOut[1].Value, nil
	}

	// The node's rate is below the minimum: the minimum.
	if _, fee, err := replace(&fakeNode{rate: 1_000}, chain.ReplaceRequest{}); err != nil || fee != paid+vsize {
		t.Fatalf("fee %d, %v; want %d paid + %d", fee, err, paid, vsize)
	}
	// The node's rate is higher: the node's.
	if _, fee, err := replace(&fakeNode{rate: 20_000}, chain.ReplaceRequest{}); err != nil || fee != 20*vsize {
		t.Fatalf("fee %d, %v; want %d at 20 sat/vB", fee, err, 20*vsize)
	}
	// An earlier replacement paid more: it is the one to outbid.
	rival := wire.NewMsgTx(2)
	rival.AddTxIn(wire.NewTxIn(&orig.TxIn[0].PreviousOutPoint, nil, nil))
	rival.AddTxOut(wire.NewTxOut(orig.TxOut[0].Value, orig.TxOut[0].PkScript))
	rival.AddTxOut(wire.NewTxOut(orig.TxOut[1].Value-5_000, from.script))
	var raw bytes.Buffer
	_ = rival.Serialize(&raw)
	if _, fee, err := replace(nil, chain.ReplaceRequest{Rivals: []string{hex.EncodeToString(raw.Bytes())}}); err != nil || fee != paid+5_000+vsize {
		t.Fatalf("fee %d, %v; want the rival's %d + %d", fee, err, paid+5_000, vsize)
	}
	// The caller's fee, at or above the minimum.
	if _, fee, err := replace(nil, chain.ReplaceRequest{Fees: map[string]*big.Int{FeeField: big.NewInt(9_000)}}); err != nil || fee != 9_000 {
		t.Fatalf("fee %d, %v; want the 9000 asked", fee, err)
	}

	for name, r := range map[string]chain.ReplaceRequest{
		"a fee below the minimum":      {Fees: map[string]*big.Int{FeeField: big.NewInt(paid + vsize - 1)}},
		"a change that cannot pay":     {Fees: map[string]*big.Int{FeeField: big.NewInt(paid + orig.TxOut[1].Value - 200)}},
		"a fee above the server's cap": {MaxFee: big.NewInt(paid)},
		"cancel":                       {Cancel: true},
		"change to another address":    {Serialized: build(map[string]any{"changeAddress": to.addr})},
		"not a PSBT":                   {Serialized: "not base64"},
	} {
		if _, _, err := replace(&fakeNode{rate: 1_000}, r); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("%s: %v, want ErrInvalidTx", name, err)
		}
	}
	// Inputs that do not signal replacement (what DOGE and BCH transfers carry).
	p := decodePSBT(t, queued)
	p.UnsignedTx.TxIn[0].Sequence = wire.MaxTxInSequenceNum
	var final bytes.Buffer
	_ = p.Serialize(&final)
	_, err := c.Replacement(t.Context(), nil, chain.ReplaceRequest{Serialized: base64.StdEncoding.EncodeToString(final.Bytes())})
	if err == nil || !strings.Contains(err.Error(), "BIP 125") {
		t.Errorf("a final-sequence transaction: %v, want a BIP 125 refusal", err)
	}
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }
