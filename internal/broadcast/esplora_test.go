package broadcast

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// esploraDouble answers Esplora's documented shapes from fixed bodies by
// path; a path it does not know is a 404, as Esplora answers an unknown
// transaction.
func esploraDouble(t *testing.T, bodies map[string]string) *Esplora {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.URL.Path]
		if !ok {
			http.Error(w, "Transaction not found", http.StatusNotFound)
			return
		}
		fmt.Fprint(w, b)
	}))
	t.Cleanup(srv.Close)
	e, err := DialEsplora(srv.URL + "/api/")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	txA = strings.Repeat("a", 64)
	txB = strings.Repeat("b", 64)
)

func TestEsploraUnspent(t *testing.T) {
	e := esploraDouble(t, map[string]string{
		"/api/address/bc1qaddr/utxo": `[
			{"txid":"` + txA + `","vout":1,"status":{"confirmed":true,"block_height":700000,"block_hash":"00","block_time":1},"value":150000},
			{"txid":"` + txB + `","vout":0,"status":{"confirmed":false},"value":2500}]`,
		"/api/blocks/tip/height": `700009`,
		"/api/tx/" + txA:         `{"txid":"` + txA + `","vin":[{"is_coinbase":true}],"vout":[{"scriptpubkey":"00","value":1},{"scriptpubkey":"0014ab","value":150000}],"status":{"confirmed":true,"block_height":700000}}`,
	})
	script := []byte{0x00, 0x14, 0xab}
	got, err := e.Unspent(context.Background(), "bc1qaddr", script)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d outputs: %+v", len(got), got)
	}
	a, b := got[0], got[1]
	if a.TxID != txA || a.Vout != 1 || a.Value != 150000 || a.Confirmations != 10 || !a.Coinbase || string(a.Script) != string(script) {
		t.Fatalf("confirmed output %+v", a)
	}
	if b.TxID != txB || b.Vout != 0 || b.Value != 2500 || b.Confirmations != 0 || b.Coinbase {
		t.Fatalf("mempool output %+v", b)
	}
}

func TestEsploraOutput(t *testing.T) {
	txBody := `{"txid":"` + txA + `","vin":[{"is_coinbase":false}],"vout":[{"scriptpubkey":"76a914","value":42},{"scriptpubkey":"0014cd","value":99}],"status":{"confirmed":true,"block_height":10}}`
	e := esploraDouble(t, map[string]string{
		"/api/tx/" + txA:                 txBody,
		"/api/tx/" + txA + "/outspend/0": `{"spent":false}`,
		"/api/tx/" + txA + "/outspend/1": `{"spent":true,"txid":"` + txB + `","vin":0,"status":{"confirmed":false}}`,
		"/api/blocks/tip/height":         `11`,
	})
	ctx := context.Background()
	u, err := e.Output(ctx, strings.ToUpper(txA), 0)
	if err != nil || u == nil {
		t.Fatalf("unspent output: %+v, %v", u, err)
	}
	if u.TxID != txA || u.Value != 42 || fmt.Sprintf("%x", u.Script) != "76a914" || u.Confirmations != 2 || u.Coinbase {
		t.Fatalf("output %+v", u)
	}
	for _, c := range []struct {
		txid string
		vout uint32
	}{{txA, 1}, {txA, 2}, {txB, 0}, {"zz", 0}} {
		if u, err := e.Output(ctx, c.txid, c.vout); u != nil || err != nil {
			t.Fatalf("%.8s:%d (spent, past the outputs, unknown or no txid): %+v, %v", c.txid, c.vout, u, err)
		}
	}
}

func TestEsploraFeeRate(t *testing.T) {
	for _, c := range []struct {
		body   string
		blocks int
		want   int64
		err    string
	}{
		// sat/vB to sat/kvB, exactly, rounded up; the largest target
		// within the blocks asked for.
		{body: `{"1":87.882,"2":50.1234,"6":20.5,"144":1.027}`, blocks: 6, want: 20500},
		{body: `{"1":87.882,"2":50.1234,"6":20.5,"144":1.027}`, blocks: 2, want: 50124},
		{body: `{"3":7,"10":2}`, blocks: 2, want: 7000}, // none within: the nearest
		{body: `{}`, blocks: 6, err: "give fee"},
		{body: `{"x":1}`, blocks: 6, err: "not a number of blocks"},
		{body: `{"6":-1}`, blocks: 6, err: "not a fee rate"},
		{body: `{"6":1e999999999}`, blocks: 6, err: "not a fee rate"},
		{body: `[]`, blocks: 6, err: "malformed"},
	} {
		e := esploraDouble(t, map[string]string{"/api/fee-estimates": c.body})
		got, err := e.FeeRate(context.Background(), c.blocks)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%s within %d: %d, %v; want %d", c.body, c.blocks, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, ErrUnavailable)):
			t.Errorf("%s: err %v, want one containing %q", c.body, err, c.err)
		}
	}
}

func TestEsploraRefusesMalformedAnswers(t *testing.T) {
	entry := func(txid, vout, value string) string {
		return `[{"txid":"` + txid + `","vout":` + vout + `,"value":` + value + `,"status":{"confirmed":false}}]`
	}
	for name, c := range map[string]struct{ body, err string }{
		"fractional value":         {entry(txA, "0", "1.5"), "not an amount"},
		"exponent value":           {entry(txA, "0", "1e3"), "not an amount"},
		"negative value":           {entry(txA, "0", "-1"), "not an amount"},
		"huge value":               {entry(txA, "0", "99999999999999999999"), "not an amount"},
		"short txid":               {entry("abcd", "0", "1"), "not 64 hex"},
		"non-hex txid":             {entry(strings.Repeat("g", 64), "0", "1"), "not 64 hex"},
		"negative vout":            {entry(txA, "-1", "1"), "not an output index"},
		"quoted fraction":          {entry(txA, "0", `"1.5"`), "not an amount"},
		"not a list":               {`{"txid":"x"}`, "malformed"},
		"confirmed without height": {`[{"txid":"` + txA + `","vout":0,"value":1,"status":{"confirmed":true}}]`, "without block_height"},
		"too many entries":         {"[" + strings.Repeat(`{"txid":"`+txA+`","vout":0,"value":1,"status":{}},`, esploraMaxUnspent) + `{"txid":"` + txA + `","vout":0,"value":1,"status":{}}]`, "more than"},
		"oversized answer":         {`[` + strings.Repeat(" ", esploraMaxBody) + `]`, "larger than"},
	} {
		e := esploraDouble(t, map[string]string{"/api/address/a/utxo": c.body, "/api/blocks/tip/height": "1"})
		_, err := e.Unspent(context.Background(), "a", nil)
		if err == nil || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: err %v, want ErrUnavailable containing %q", name, err, c.err)
		}
	}
	// A transaction answer that is another transaction, or has a bad
	// script, is refused for fromUTXO.
	for name, body := range map[string]string{
		"other txid":  `{"txid":"` + txB + `","vin":[],"vout":[{"scriptpubkey":"00","value":1}],"status":{}}`,
		"bad script":  `{"txid":"` + txA + `","vin":[],"vout":[{"scriptpubkey":"xy","value":1}],"status":{}}`,
		"float value": `{"txid":"` + txA + `","vin":[],"vout":[{"scriptpubkey":"00","value":0.5}],"status":{}}`,
	} {
		e := esploraDouble(t, map[string]string{"/api/tx/" + txA: body, "/api/tx/" + txA + "/outspend/0": `{"spent":false}`})
		if u, err := e.Output(context.Background(), txA, 0); err == nil || !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: %+v, %v; want an ErrUnavailable", name, u, err)
		}
	}
}

func TestDialEsploraRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "esplora.example", "ftp://host/api", "http://"} {
		if _, err := DialEsplora(u); !errors.Is(err, ErrBadNode) {
			t.Errorf("%q: %v", u, err)
		}
	}
}

func TestUTXOClientWithEsploraReadsFromIt(t *testing.T) {
	e := esploraDouble(t, map[string]string{"/api/fee-estimates": `{"6":3}`})
	node, err := DialUTXO("http://127.0.0.1:1") // never contacted
	if err != nil {
		t.Fatal(err)
	}
	got, err := node.WithEsplora(e).FeeRate(context.Background(), 6)
	if err != nil || got != 3000 {
		t.Fatalf("FeeRate %d, %v: want Esplora's 3 sat/vB", got, err)
	}
	if node.esplora != nil {
		t.Fatal("WithEsplora changed the node client it copied")
	}
}

func FuzzEsploraAnswers(f *testing.F) {
	f.Add([]byte(`[{"txid":"`+txA+`","vout":1,"value":5,"status":{"confirmed":true,"block_height":3}}]`), 6)
	f.Add([]byte(`{"txid":"`+txA+`","vin":[{"is_coinbase":true}],"vout":[{"scriptpubkey":"00","value":1}],"status":{}}`), 1)
	f.Add([]byte(`{"1":2.5,"6":1.001}`), 2)
	f.Fuzz(func(t *testing.T, body []byte, blocks int) {
		if list, err := parseUnspent(body); err == nil {
			for _, u := range list {
				if checkTxID(u.TxID) != nil {
					t.Fatalf("accepted txid %q", u.TxID)
				}
				if v, err := satoshiValue(u.Value); err != nil || v < 0 {
					t.Fatalf("accepted value %q", u.Value)
				}
			}
		}
		if tx, err := parseTx(body, txA); err == nil && !strings.EqualFold(tx.TxID, txA) {
			t.Fatalf("accepted transaction %q for %s", tx.TxID, txA)
		}
		if r, err := parseFeeEstimates(body, blocks); err == nil && r <= 0 {
			t.Fatalf("accepted rate %d", r)
		}
	})
}
