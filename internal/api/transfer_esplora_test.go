package api

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/btcsuite/btcd/btcutil/psbt"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain/chains"
)

// TestTransferFromEsplora builds a BTC fromAddress transfer through the
// route with the chain's unspent outputs and fee rate read from an
// Esplora API (--utxo-source BTC=esplora:URL): the inputs are Esplora's
// outputs, and a malformed Esplora answer is a 502 that queues nothing.
func TestTransferFromEsplora(t *testing.T) {
	const (
		from = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
		to   = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
	)
	txA, txB := strings.Repeat("a", 64), strings.Repeat("b", 64)
	var utxos atomic.Pointer[string] // the double's answer, changed below
	first := `[{"txid":"` + txA + `","vout":2,"value":60000,"status":{"confirmed":true,"block_height":800000}},` +
		`{"txid":"` + txB + `","vout":0,"value":70000,"status":{"confirmed":false}}]`
	utxos.Store(&first)
	esplora := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/address/" + from + "/utxo":
			fmt.Fprint(w, *utxos.Load())
		case "/blocks/tip/height":
			fmt.Fprint(w, "800500")
		case "/fee-estimates":
			fmt.Fprint(w, `{"1":30,"6":10.5,"144":1}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer esplora.Close()
	src, err := broadcast.DialEsplora(esplora.URL)
	if err != nil {
		t.Fatal(err)
	}
	// The node only broadcasts; building never contacts it.
	node, err := broadcast.DialUTXO("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.srv.lookupChain = chains.Lookup // the real BTC builder and codec
	e.nodes.Set("BTC", false, node.WithEsplora(src))

	body := `{"fromAddress":[{"address":"` + from + `","signatureId":"11111111-1111-4111-8111-111111111111"}],"to":[{"address":"` + to + `","value":0.001}]}`
	var got struct{ SignatureID string }
	e.do("POST", "/v3/bitcoin/transaction", e.keyA, body).want(t, 200, &got)
	var tx struct{ SerializedTransaction string }
	e.do("GET", "/v3/kms/"+got.SignatureID, e.keyA, nil).want(t, 200, &tx)
	raw, err := base64.StdEncoding.DecodeString(tx.SerializedTransaction)
	if err != nil {
		t.Fatalf("serializedTransaction is not a base64 PSBT: %v", err)
	}
	p, err := psbt.NewFromRawBytes(bytes.NewReader(raw), false)
	if err != nil {
		t.Fatal(err)
	}
	var ins []string
	var spent int64
	for i, in := range p.UnsignedTx.TxIn {
		ins = append(ins, in.PreviousOutPoint.String())
		spent += p.Inputs[i].WitnessUtxo.Value
	}
	values := map[string]int64{txA + ":2": 60000, txB + ":0": 70000}
	var want int64
	for _, in := range ins {
		v, ok := values[in]
		if !ok {
			t.Fatalf("inputs %q, want Esplora's outputs", ins)
		}
		want += v
	}
	if len(ins) == 0 || spent != want {
		t.Fatalf("inputs %q spend %d, Esplora's amounts sum to %d", ins, spent, want)
	}
	var paid int64
	for _, o := range p.UnsignedTx.TxOut {
		paid += o.Value
	}
	// The fee is Esplora's 6-block rate, 10.5 sat/vB, times the size.
	if fee := spent - paid; p.UnsignedTx.TxOut[0].Value != 100000 || fee < 10*100 || fee > 11*300 {
		t.Fatalf("outputs %v, fee %d: want 100000 paid at about 10.5 sat/vB", p.UnsignedTx.TxOut, fee)
	}

	// A malformed answer (a fractional amount) is the node gateway's 502,
	// and nothing is queued.
	malformed := `[{"txid":"` + txA + `","vout":2,"value":600.5,"status":{"confirmed":false}}]`
	utxos.Store(&malformed)
	er := e.do("POST", "/v3/bitcoin/transaction", e.keyA, body).wantError(t, 502, CodeNodeUnavailable)
	if !strings.Contains(er.Message, "not an amount") {
		t.Fatalf("502 message %q does not say what was wrong", er.Message)
	}
	var pending []struct{ ID string }
	e.do("GET", "/v3/kms/pending/BTC", e.keyA, nil).want(t, 200, &pending)
	if len(pending) != 1 || pending[0].ID != got.SignatureID {
		t.Fatalf("pending %+v: want only the first transfer", pending)
	}
}
