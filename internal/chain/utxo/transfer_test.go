package utxo

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"

	"github.com/custoskms/custos/internal/chain"
)

// fakeNode is the node double of the transfer builder: unspent outputs per
// script, the UTXO set by outpoint, a fee rate, and what was asked.
type fakeNode struct {
	unspent map[string][]Unspent // by hex script
	utxos   map[string]*Unspent  // by "txid:vout"
	rate    int64
	blocks  []int
	listed  []string
}

func (n *fakeNode) Unspent(_ context.Context, address string, script []byte) ([]Unspent, error) {
	n.listed = append(n.listed, address)
	return n.unspent[fmt.Sprintf("%x", script)], nil
}

func (n *fakeNode) Output(_ context.Context, txid string, vout uint32) (*Unspent, error) {
	return n.utxos[fmt.Sprintf("%s:%d", txid, vout)], nil
}

func (n *fakeNode) FeeRate(_ context.Context, blocks int) (int64, error) {
	n.blocks = append(n.blocks, blocks)
	return n.rate, nil
}

const (
	walletA = "11111111-1111-4111-8111-111111111111"
	walletB = "22222222-2222-4222-8222-222222222222"
)

// party is one wallet address of a test: its key and testnet address.
type party struct {
	wif    string
	addr   string
	script []byte
}

func partyAt(t *testing.T, c *Chain, mnemonic string, index uint32, n Network) party {
	t.Helper()
	seed, err := chain.Seed(mnemonic)
	if err != nil {
		t.Fatal(err)
	}
	wif, err := c.PrivateKey(seed, index, true)
	if err != nil {
		t.Fatal(err)
	}
	w, err := btcutil.DecodeWIF(wif)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := c.Address(w.PrivKey.PubKey(), n)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.outputScript(addr, true)
	if err != nil {
		t.Fatal(err)
	}
	return party{wif: wif, addr: addr, script: s}
}

func txid(i int) string { return fmt.Sprintf("%064x", i) }

func unspentOf(p party, n int, values ...int64) []Unspent {
	out := make([]Unspent, len(values))
	for i, v := range values {
		out[i] = Unspent{TxID: txid(n + i), Vout: uint32(i % 3), Value: v, Script: p.script, Confirmations: 6}
	}
	return out
}

func decodePSBT(t *testing.T, s string) *psbt.Packet {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	p, err := psbt.NewFromRawBytes(bytes.NewReader(raw), false)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// fromAddress over two wallets' three addresses (one of them a regtest
// address, as a regtest node configured as testnet knows them): largest
// outputs first, change to the first sender, the fee at the node's rate for
// the signed size, each input signed by its wallet, and the signed
// transaction no larger than the estimate the fee was paid for.
func TestTransferFromAddress(t *testing.T) {
	c := BTC
	a0 := partyAt(t, c, abandonMnemonic, 0, Testnet)
	a1 := partyAt(t, c, abandonMnemonic, 1, Regtest)
	b0 := partyAt(t, c, "legal winner thank year wave sausage worth useful legal winner thank yellow", 0, Testnet)
	to := partyAt(t, c, abandonMnemonic, 9, Testnet)
	node := &fakeNode{rate: 2_000, unspent: map[string][]Unspent{
		fmt.Sprintf("%x", a0.script): unspentOf(a0, 0, 10_000, 40_000),
		fmt.Sprintf("%x", a1.script): unspentOf(a1, 10, 30_000, 5_000),
		fmt.Sprintf("%x", b0.script): append(unspentOf(b0, 20, 50_000),
			// A young block reward is not spendable; a mature one is.
			Unspent{TxID: txid(30), Value: 900_000, Script: b0.script, Coinbase: true, Confirmations: 99},
			Unspent{TxID: txid(31), Value: 20_000, Script: b0.script, Coinbase: true, Confirmations: 100}),
	}}
	body := mustJSON(map[string]any{
		"fromAddress": []map[string]any{
			{"address": a0.addr, "signatureId": walletA, "index": 0},
			{"address": a1.addr, "signatureId": walletA, "index": 1},
			{"address": b0.addr, "signatureId": walletB, "index": 0},
		},
		"to": []map[string]any{{"address": to.addr, "value": json.Number("0.0011")}},
	})
	tr, err := c.Transfer(t.Context(), node, body, true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(node.blocks, []int{targetMedium}) || !slices.Equal(node.listed, []string{a0.addr, a1.addr, b0.addr}) {
		t.Fatalf("asked the node for rates %v and addresses %v", node.blocks, node.listed)
	}
	p := decodePSBT(t, tr.Serialized)
	// 110,000 to pay: 50,000 (b0), 40,000 (a0), 30,000 (a1) = 120,000 pays it
	// and the fee; the change goes back to a0.
	var got []string
	var in int64
	for i, ti := range p.UnsignedTx.TxIn {
		got = append(got, ti.PreviousOutPoint.Hash.String())
		in += p.Inputs[i].WitnessUtxo.Value
	}
	want := []string{txid(20), txid(1), txid(10)}
	if !slices.Equal(got, want) {
		t.Fatalf("inputs %v, want %v (largest first)", got, want)
	}
	outs := p.UnsignedTx.TxOut
	if len(outs) != 2 || outs[0].Value != 110_000 || !bytes.Equal(outs[0].PkScript, to.script) || !bytes.Equal(outs[1].PkScript, a0.script) {
		t.Fatalf("outputs %+v", outs)
	}
	fee := in - outs[0].Value - outs[1].Value
	wantFee := feeOf(2_000, []Unspent{{Script: b0.script}, {Script: a0.script}, {Script: a1.script}}, [][]byte{to.script, a0.script})
	if fee != wantFee {
		t.Fatalf("fee %d, want %d", fee, wantFee)
	}
	sigs := []chain.TransferSignature{{ID: walletB, Index: new(uint32)}, {ID: walletA, Index: new(uint32)}, {ID: walletA, Index: ptr(uint32(1))}}
	if len(tr.Hashes) != 0 || !sameSignatures(tr.Signatures, sigs) {
		t.Fatalf("hashes %v, signatures %+v", tr.Hashes, tr.Signatures)
	}
	// The daemon resolves one key per signature; the signer matches them to
	// the inputs by script.
	signed, err := c.Sign(t.Context(), chain.SignRequest{Serialized: tr.Serialized, Testnet: true, Keys: []string{b0.wif, a0.wif, a1.wif}})
	if err != nil {
		t.Fatal(err)
	}
	if vsize := int64(len(signed.TxData)/2+3*strippedSize(t, signed.TxData)) / 4; (fee*1000+1999)/2000 < vsize {
		t.Fatalf("fee %d pays for fewer than the signed %d vbytes at 2 sat/vB", fee, vsize)
	}

	// The same candidates in any order give the same transaction.
	for _, cands := range node.unspent {
		rand.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	}
	again, err := c.Transfer(t.Context(), node, body, true)
	if err != nil || again.Serialized != tr.Serialized {
		t.Fatalf("a second build differs: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func sameSignatures(a, b []chain.TransferSignature) bool {
	return slices.EqualFunc(a, b, func(x, y chain.TransferSignature) bool {
		return x.ID == y.ID && (x.Index == nil) == (y.Index == nil) && (x.Index == nil || *x.Index == *y.Index)
	})
}

// strippedSize is the size of a signed transaction without its witnesses.
func strippedSize(t *testing.T, txHex string) int {
	t.Helper()
	return decodeHex(t, txHex).SerializeSizeStripped()
}

// A fixed fee with changeAddress: the fee is exactly as asked, the change
// pays changeAddress, and a private-key wallet (no index) signs as hashes.
func TestTransferFixedFeeAndChangeAddress(t *testing.T) {
	c := LTC
	a0 := partyAt(t, c, abandonMnemonic, 0, Testnet)
	ch := partyAt(t, c, abandonMnemonic, 5, Regtest)
	node := &fakeNode{unspent: map[string][]Unspent{fmt.Sprintf("%x", a0.script): unspentOf(a0, 0, 300_000, 100_000, 2_000_000)}}
	tr, err := c.Transfer(t.Context(), node, mustJSON(map[string]any{
		"fromAddress": []map[string]any{{"address": a0.addr, "signatureId": walletA}},
		"to":          []map[string]any{{"address": ch.addr, "value": "0.02"}},
		"fee":         "0.0001", "changeAddress": ch.addr,
	}), true)
	if err != nil {
		t.Fatal(err)
	}
	p := decodePSBT(t, tr.Serialized)
	outs := p.UnsignedTx.TxOut
	if len(p.Inputs) != 2 || p.Inputs[0].WitnessUtxo.Value != 2_000_000 || p.Inputs[1].WitnessUtxo.Value != 300_000 {
		t.Fatalf("inputs %+v", p.Inputs)
	}
	if len(outs) != 2 || outs[0].Value != 2_000_000 || outs[1].Value != 290_000 || !bytes.Equal(outs[1].PkScript, ch.script) {
		t.Fatalf("outputs %+v, want 0.02 and the change 0.0029 to changeAddress", outs)
	}
	if len(node.blocks) != 0 {
		t.Fatal("the node was asked for a fee rate although the request gives the fee")
	}
	if !slices.Equal(tr.Hashes, []string{walletA}) || len(tr.Signatures) != 0 {
		t.Fatalf("hashes %v, signatures %+v", tr.Hashes, tr.Signatures)
	}
	if _, err := c.Sign(t.Context(), chain.SignRequest{Serialized: tr.Serialized, Testnet: true, Keys: []string{a0.wif}}); err != nil {
		t.Fatal(err)
	}
}

// fromUTXO spends exactly the given outputs, whose amounts and scripts the
// node gives, on BCH too (a FORKID PSBT the signer signs); the change goes
// to the first input's address.
func TestTransferFromUTXO(t *testing.T) {
	for _, c := range []*Chain{BTC, BCH} {
		t.Run(c.info.Code, func(t *testing.T) {
			a0 := partyAt(t, c, abandonMnemonic, 0, Testnet)
			b0 := partyAt(t, c, "legal winner thank year wave sausage worth useful legal winner thank yellow", 3, Testnet)
			to := partyAt(t, c, abandonMnemonic, 7, Regtest)
			node := &fakeNode{rate: 1_000, utxos: map[string]*Unspent{
				txid(1) + ":2": {Value: 70_000, Script: b0.script, Confirmations: 1},
				txid(2) + ":0": {Value: 50_000, Script: a0.script},
			}}
			tr, err := c.Transfer(t.Context(), node, mustJSON(map[string]any{
				"fromUTXO": []map[string]any{
					{"txHash": txid(1), "index": 2, "signatureId": walletB, "signatureIdIndex": 3},
					{"txHash": txid(2), "index": 0, "signatureId": walletA, "signatureIdIndex": 0},
				},
				"to": []map[string]any{{"address": to.addr, "value": 0.001}},
			}), true)
			if err != nil {
				t.Fatal(err)
			}
			p := decodePSBT(t, tr.Serialized)
			outs := p.UnsignedTx.TxOut
			fee := feeOf(1_000, []Unspent{{Script: b0.script}, {Script: a0.script}}, [][]byte{to.script, b0.script})
			if len(p.Inputs) != 2 || p.UnsignedTx.TxIn[0].PreviousOutPoint.String() != txid(1)+":2" ||
				len(outs) != 2 || outs[0].Value != 100_000 || outs[1].Value != 20_000-fee || !bytes.Equal(outs[1].PkScript, b0.script) {
				t.Fatalf("inputs %v, outputs %+v (fee %d)", p.UnsignedTx.TxIn, outs, fee)
			}
			if !sameSignatures(tr.Signatures, []chain.TransferSignature{{ID: walletB, Index: ptr(uint32(3))}, {ID: walletA, Index: ptr(uint32(0))}}) {
				t.Fatalf("signatures %+v", tr.Signatures)
			}
			if _, err := c.Sign(t.Context(), chain.SignRequest{Serialized: tr.Serialized, Testnet: true, Keys: []string{a0.wif, b0.wif}}); err != nil {
				t.Fatal(err)
			}

			// A spent or unknown output is named.
			_, err = c.Transfer(t.Context(), node, mustJSON(map[string]any{
				"fromUTXO": []map[string]any{{"txHash": txid(3), "index": 0, "signatureId": walletA, "signatureIdIndex": 0}},
				"to":       []map[string]any{{"address": to.addr, "value": 0.001}},
			}), true)
			wantFieldError(t, err, "fromUTXO[0]: output "+txid(3)+":0 is spent or unknown")
		})
	}
}

func wantFieldError(t *testing.T, err error, want string) {
	t.Helper()
	var fe chain.FieldErrors
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want a FieldErrors containing %q", err, want)
	}
}

// What the builder refuses with a 400: a dust output, funds short of the
// outputs and fee (naming the shortfall), addresses of another chain or
// network, a private key, both or neither source forms.
func TestTransferRefusals(t *testing.T) {
	c := BTC
	a0 := partyAt(t, c, abandonMnemonic, 0, Testnet)
	node := &fakeNode{rate: 1_000, unspent: map[string][]Unspent{fmt.Sprintf("%x", a0.script): unspentOf(a0, 0, 60_000, 40_000)}}
	from := []map[string]any{{"address": a0.addr, "signatureId": walletA, "index": 0}}
	build := func(body map[string]any) error {
		if _, ok := body["fromAddress"]; !ok {
			body["fromAddress"] = from
		}
		_, err := c.Transfer(t.Context(), node, mustJSON(body), true)
		return err
	}
	to := func(addr string, v any) []map[string]any { return []map[string]any{{"address": addr, "value": v}} }
	short := feeOf(1_000, []Unspent{{Script: a0.script}, {Script: a0.script}}, [][]byte{a0.script})
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"dust", map[string]any{"to": to(a0.addr, "0.00000293")}, "to[0].value: 0.00000293 BTC is below the dust threshold of 0.00000294 BTC"},
		{"insufficient", map[string]any{"to": to(a0.addr, 0.001)},
			fmt.Sprintf("fromAddress: insufficient funds: the outputs and fee need %s BTC, the addresses' spendable outputs hold 0.001 BTC (short by %s BTC)",
				formatCoins(100_000+short), formatCoins(short))},
		{"too many decimals", map[string]any{"to": to(a0.addr, "0.000000001")}, "to[0].value: has more than the asset's 8 decimals"},
		{"mainnet address", map[string]any{"to": to("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", 0.0001)}, "to[0].address: \"bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu\" is not an address of the chain and network BTC testnet"},
		{"LTC address", map[string]any{"to": to("tltc1qcr8te4kr609gcawutmrza0j4xv80jy8zyqpfan", 0.0001)}, "to[0].address"},
		{"private key", map[string]any{"fromAddress": []map[string]any{{"address": a0.addr, "privateKey": "cVx"}}, "to": to(a0.addr, 0.0001)},
			"fromAddress[0].privateKey: is never sent to Custos"},
		{"both forms", map[string]any{"fromUTXO": []map[string]any{{"txHash": txid(1), "index": 0, "signatureId": walletA}}, "to": to(a0.addr, 0.0001)},
			"fromAddress: give fromAddress or fromUTXO, not both"},
		{"no recipients", map[string]any{"to": []map[string]any{}}, "to: at least one recipient is required"},
		{"fee not a number", map[string]any{"to": to(a0.addr, 0.0001), "fee": "0,1"}, "fee: must be a non-negative decimal number"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantFieldError(t, build(tc.body), tc.want) })
	}
	// No node configured: the request says what it could not find.
	_, err := c.Transfer(t.Context(), nil, mustJSON(map[string]any{"fromAddress": from, "to": to(a0.addr, 0.0001), "fee": "0.00001"}), true)
	wantFieldError(t, err, "fromAddress: no BTC testnet node is configured to find the addresses' unspent outputs")
}

// Addresses of each chain and network, as outputs pay them.
func TestOutputScript(t *testing.T) {
	for _, tc := range []struct {
		c       *Chain
		addr    string
		testnet bool
		ok      bool
	}{
		{BTC, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", false, true},
		{BTC, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", false, true},
		{BTC, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", false, true},
		{BTC, "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297", false, true},
		{BTC, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", true, false},
		{LTC, "ltc1qcr8te4kr609gcawutmrza0j4xv80jy8zqz6k5j", false, false}, // bad checksum
		{DOGE, "tb1qcr8te4kr609gcawutmrza0j4xv80jy8zn4u4kq", true, false},  // no segwit
		{BCH, "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", false, true},
		{BCH, "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", false, true},
		{BCH, "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", false, true},
		{BCH, "bchtest:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", true, false},
	} {
		_, err := tc.c.outputScript(tc.addr, tc.testnet)
		if (err == nil) != tc.ok {
			t.Errorf("%s %s (testnet %v): %v, want ok %v", tc.c.info.Code, tc.addr, tc.testnet, err, tc.ok)
		}
	}
	// Every chain's own wallet addresses, on each network.
	for _, c := range []*Chain{BTC, LTC, DOGE, BCH} {
		for _, n := range []Network{Mainnet, Testnet, Regtest} {
			priv, _ := btcec.NewPrivateKey()
			a, err := c.Address(priv.PubKey(), n)
			if err != nil {
				t.Fatal(err)
			}
			s, err := c.outputScript(a, n != Mainnet)
			if err != nil || c.scriptAddress(s, n) != a {
				t.Errorf("%s %s address %s: script %x, %v", c.info.Code, n, a, s, err)
			}
		}
	}
}

// Tatum's estimate answer: the fee in coin units of the transfer at each
// speed's rate.
func TestEstimateFee(t *testing.T) {
	c := BTC
	a0 := partyAt(t, c, abandonMnemonic, 0, Testnet)
	to := partyAt(t, c, abandonMnemonic, 1, Testnet)
	node := &fakeNode{rate: 10_000, unspent: map[string][]Unspent{fmt.Sprintf("%x", a0.script): unspentOf(a0, 0, 1_000_000)}}
	got, err := c.EstimateFee(t.Context(), node, mustJSON(map[string]any{
		"chain": "BTC", "type": "TRANSFER", "fromAddress": []string{a0.addr}, "to": []map[string]any{{"address": to.addr, "value": 0.001}}}), true)
	if err != nil {
		t.Fatal(err)
	}
	one := feeOf(10_000, []Unspent{{Script: a0.script}}, [][]byte{to.script, a0.script})
	want := map[string]string{"fast": formatCoins(one), "medium": formatCoins(one), "slow": formatCoins(one)}
	if fmt.Sprint(got) != fmt.Sprint(want) || !slices.Equal(node.blocks, []int{2, 6, 12}) {
		t.Fatalf("estimate %v at %v, want %v", got, node.blocks, want)
	}
	_, err = c.EstimateFee(t.Context(), node, mustJSON(map[string]any{"chain": "BTC", "type": "DEPLOY", "fromAddress": []string{a0.addr}, "to": []map[string]any{{"address": to.addr, "value": 0.001}}}), true)
	wantFieldError(t, err, `type: must be "TRANSFER"`)
}

func TestFormatCoins(t *testing.T) {
	for v, want := range map[int64]string{0: "0", 1: "0.00000001", 150_000_000: "1.5", 2_100_000_000_000_000: "21000000"} {
		if got := formatCoins(v); got != want {
			t.Errorf("formatCoins(%d) = %s, want %s", v, got, want)
		}
	}
}

// tenThousand is an address's 10,000 unspent outputs of 1,000 to about
// 10,000,000 satoshis, in a fixed pseudo-random order.
func tenThousand(p party) []Unspent {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]Unspent, 10_000)
	for i := range out {
		out[i] = Unspent{TxID: txid(i), Vout: uint32(i % 4), Value: 1_000 + r.Int64N(10_000_000), Script: p.script, Confirmations: 10}
	}
	return out
}

// The whole build of a transfer from an address holding 10,000 unspent
// outputs (sort, selection, PSBT), against a node double that answers at
// once: a payment a few outputs cover, and one that needs 2,000 of them.
func BenchmarkTransferFrom10kUnspent(b *testing.B) {
	t := &testing.T{}
	a0 := partyAt(t, BTC, abandonMnemonic, 0, Testnet)
	to := partyAt(t, BTC, abandonMnemonic, 1, Testnet)
	cands := tenThousand(a0)
	node := &fakeNode{rate: 5_000, unspent: map[string][]Unspent{fmt.Sprintf("%x", a0.script): cands}}
	sorted := slices.Clone(cands)
	slices.SortFunc(sorted, func(x, y Unspent) int { return int(y.Value - x.Value) })
	var big int64
	for _, u := range sorted[:2_000] {
		big += u.Value
	}
	for _, bc := range []struct {
		name   string
		amount int64
	}{{"few inputs", 20_000_000}, {"2000 inputs", big - 10_000_000}} {
		body := mustJSON(map[string]any{
			"fromAddress": []map[string]any{{"address": a0.addr, "signatureId": walletA, "index": 0}},
			"to":          []map[string]any{{"address": to.addr, "value": json.Number(formatCoins(bc.amount))}},
		})
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				node.listed = node.listed[:0]
				node.blocks = node.blocks[:0]
				if _, err := BTC.Transfer(context.Background(), node, body, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A remainder too small for a change output: with an estimated fee it goes
// to the fee; with a fixed fee the next input is taken so the fee stays as
// asked, and only when none remains does the remainder go to the fee.
func TestSelectRemainder(t *testing.T) {
	c := BTC
	p := partyAt(t, c, abandonMnemonic, 0, Testnet)
	out := [][]byte{p.script}
	feeOne := feeOf(1_000, []Unspent{{Script: p.script}}, out)
	cands := unspentOf(p, 0, 100_000+feeOne+200, 50_000)

	got, err := c.selectInputs(cands, out, []int64{100_000}, p.script, fee{rate: 1_000})
	if err != nil || len(got.inputs) != 1 || got.change != 0 || got.fee != feeOne+200 {
		t.Fatalf("estimated fee: %+v, %v; want one input, no change, the 200 remainder in the fee", got, err)
	}
	fixed := feeOne
	got, err = c.selectInputs(cands, out, []int64{100_000}, p.script, fee{fixed: &fixed})
	if err != nil || len(got.inputs) != 2 || got.fee != fixed || got.change != 50_200 {
		t.Fatalf("fixed fee: %+v, %v; want two inputs, the fee as asked, change 50,200", got, err)
	}
	got, err = c.selectInputs(cands[:1], out, []int64{100_000}, p.script, fee{fixed: &fixed})
	if err != nil || len(got.inputs) != 1 || got.fee != fixed+200 || got.change != 0 {
		t.Fatalf("fixed fee, one candidate: %+v, %v; want the remainder in the fee", got, err)
	}
}
