package broadcast

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/internal/chain/utxo"
)

// rpcDouble answers JSON-RPC methods from a table: a result (raw JSON) or
// an error {code, message}; a method not in it is "Method not found", as
// btcd and bitcoind answer. It records the calls.
type rpcDouble struct {
	answers map[string]func(params []json.RawMessage) (result string, code int, msg string)
	calls   []string
}

func (d *rpcDouble) serve(t *testing.T) *UTXOClient {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Method string
			Params []json.RawMessage
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil {
			t.Errorf("request %s: %v", body, err)
		}
		d.calls = append(d.calls, req.Method)
		answer, ok := d.answers[req.Method]
		result, code, msg := "null", codeMethodNotFound, "Method not found"
		if ok {
			result, code, msg = answer(req.Params)
		}
		if msg != "" {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"result":null,"error":{"code":%d,"message":%q},"id":1}`, code, msg)
			return
		}
		fmt.Fprintf(w, `{"result":%s,"error":null,"id":1}`, result)
	}))
	t.Cleanup(srv.Close)
	c, err := DialUTXO(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rpcOK(result string) func([]json.RawMessage) (string, int, string) {
	return func([]json.RawMessage) (string, int, string) { return result, 0, "" }
}

var readScript = []byte{0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}

const readScriptHex = "0014" + "0102030405060708090a0b0c0d0e0f1011121314"

// The Core family: scantxoutset over raw(<script>), amounts exact, a young
// output asked with gettxout whether it is a block reward (Core before 22
// does not say), a spent one (gettxout null) left out.
func TestUTXOUnspentScan(t *testing.T) {
	d := &rpcDouble{answers: map[string]func([]json.RawMessage) (string, int, string){
		"scantxoutset": func(p []json.RawMessage) (string, int, string) {
			if string(p[0]) != `"start"` || string(p[1]) != `["raw(`+readScriptHex+`)"]` {
				t.Errorf("scantxoutset params %s", p)
			}
			return `{"success":true,"height":300,"unspents":[
				{"txid":"aa","vout":1,"scriptPubKey":"` + readScriptHex + `","amount":0.12345678,"height":10},
				{"txid":"bb","vout":0,"scriptPubKey":"` + readScriptHex + `","amount":50.00000000,"height":250},
				{"txid":"cc","vout":2,"scriptPubKey":"` + readScriptHex + `","amount":1.1,"height":300}]}`, 0, ""
		},
		"gettxout": func(p []json.RawMessage) (string, int, string) {
			switch string(p[0]) {
			case `"bb"`:
				return `{"confirmations":51,"value":50.0,"coinbase":true,"scriptPubKey":{"hex":"` + readScriptHex + `"}}`, 0, ""
			}
			return "null", 0, ""
		},
	}}
	got, err := d.serve(t).Unspent(t.Context(), "addr", readScript)
	if err != nil {
		t.Fatal(err)
	}
	want := []utxo.Unspent{
		{TxID: "aa", Vout: 1, Value: 12_345_678, Script: readScript, Confirmations: 291},
		{TxID: "bb", Vout: 0, Value: 5_000_000_000, Script: readScript, Coinbase: true, Confirmations: 51},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("unspent %+v\nwant %+v", got, want)
	}
}

// rawHex is tx serialized, in hex.
func rawHex(t *testing.T, tx *wire.MsgTx) string {
	t.Helper()
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(buf.Bytes())
}

// btcd and bchd: no scantxoutset, so the address index, page by page, each
// transaction read from its raw bytes; an output is unspent unless a
// transaction of the address spends it.
func TestUTXOUnspentAddressIndex(t *testing.T) {
	reward := wire.NewMsgTx(1)
	reward.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex), []byte{3, 1}, nil))
	reward.AddTxOut(wire.NewTxOut(5_000_000_000, readScript))
	paid := wire.NewMsgTx(2)
	paid.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{9}, 0), nil, nil))
	paid.AddTxOut(wire.NewTxOut(10, []byte{0x76, 0xa9}))
	paid.AddTxOut(wire.NewTxOut(50_000_000, readScript))
	paidID := paid.TxHash()
	spends := wire.NewMsgTx(2)
	spends.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&paidID, 1), nil, nil))
	spends.AddTxOut(wire.NewTxOut(100, readScript))
	entry := func(tx *wire.MsgTx, confirmations int) string {
		return fmt.Sprintf(`{"hex":%q,"txid":%q,"confirmations":%d,"vin":null,"vout":[]}`, rawHex(t, tx), tx.TxHash(), confirmations)
	}
	var skips []int
	d := &rpcDouble{answers: map[string]func([]json.RawMessage) (string, int, string){
		"searchrawtransactions": func(p []json.RawMessage) (string, int, string) {
			var skip int
			_ = json.Unmarshal(p[2], &skip)
			skips = append(skips, skip)
			if string(p[0]) != `"addr"` {
				t.Errorf("searched %s", p[0])
			}
			switch skip {
			case 0:
				return "[" + entry(reward, 120) + "," + entry(paid, 3) + "]", 0, ""
			case 2:
				return "[" + entry(spends, 0) + "]", 0, ""
			}
			return "", codeNoTx, "No information available about address addr"
		},
	}}
	got, err := d.serve(t).Unspent(t.Context(), "addr", readScript)
	if err != nil {
		t.Fatal(err)
	}
	want := []utxo.Unspent{
		{TxID: reward.TxHash().String(), Vout: 0, Value: 5_000_000_000, Script: readScript, Coinbase: true, Confirmations: 120},
		{TxID: spends.TxHash().String(), Vout: 0, Value: 100, Script: readScript},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || !slices.Equal(skips, []int{0, 2, 3}) {
		t.Fatalf("unspent %+v (pages at %v)\nwant %+v", got, skips, want)
	}

	// A node without an address index says so; the error says what it needs.
	d = &rpcDouble{answers: map[string]func([]json.RawMessage) (string, int, string){
		"searchrawtransactions": func([]json.RawMessage) (string, int, string) {
			return "", -1, "Address index must be enabled (--addrindex)"
		},
	}}
	_, err = d.serve(t).Unspent(t.Context(), "addr", readScript)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "--addrindex") {
		t.Fatalf("without an address index: %v", err)
	}
}

func TestUTXOOutput(t *testing.T) {
	d := &rpcDouble{answers: map[string]func([]json.RawMessage) (string, int, string){
		"gettxout": func(p []json.RawMessage) (string, int, string) {
			switch string(p[0]) {
			case `"aa"`:
				return `{"confirmations":0,"value":0.001,"scriptPubKey":{"hex":"` + readScriptHex + `"}}`, 0, ""
			case `"bad"`:
				return `{"confirmations":0,"value":0.000000001,"scriptPubKey":{"hex":"00"}}`, 0, ""
			case `"btcd-unknown"`:
				return "", codeNoTx, "No information available about transaction"
			}
			return "null", 0, ""
		},
	}}
	c := d.serve(t)
	got, err := c.Output(t.Context(), "aa", 1)
	if err != nil || got == nil || got.Value != 100_000 || got.Vout != 1 || string(got.Script) != string(readScript) {
		t.Fatalf("output %+v, %v", got, err)
	}
	for _, id := range []string{"spent", "btcd-unknown"} {
		if got, err := c.Output(t.Context(), id, 0); got != nil || err != nil {
			t.Errorf("%s: %+v, %v; want nil", id, got, err)
		}
	}
	if _, err := c.Output(t.Context(), "bad", 0); !errors.Is(err, ErrUnavailable) {
		t.Errorf("a fraction of a satoshi: %v", err)
	}
}

// The fee rate: the node's estimate, never below its relay fee, which is the
// answer when the node has none; btcd's methods where Core's are missing.
func TestUTXOFeeRate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers map[string]func([]json.RawMessage) (string, int, string)
		want    int64
		calls   []string
	}{
		{"core estimate", map[string]func([]json.RawMessage) (string, int, string){
			"getnetworkinfo":   rpcOK(`{"relayfee":0.00001000}`),
			"estimatesmartfee": rpcOK(`{"feerate":0.00021,"blocks":6}`),
		}, 21_000, []string{"getnetworkinfo", "estimatesmartfee"}},
		{"core without data", map[string]func([]json.RawMessage) (string, int, string){
			"getnetworkinfo":   rpcOK(`{"relayfee":0.00001000}`),
			"estimatesmartfee": rpcOK(`{"errors":["Insufficient data or no feerate found"],"blocks":0}`),
		}, 1_000, []string{"getnetworkinfo", "estimatesmartfee"}},
		{"estimate below relay", map[string]func([]json.RawMessage) (string, int, string){
			"getnetworkinfo":   rpcOK(`{"relayfee":0.001}`),
			"estimatesmartfee": rpcOK(`{"feerate":0.0002}`),
		}, 100_000, nil},
		{"btcd", map[string]func([]json.RawMessage) (string, int, string){
			"getnetworkinfo":   func([]json.RawMessage) (string, int, string) { return "", -1, "Command unimplemented" },
			"estimatesmartfee": func([]json.RawMessage) (string, int, string) { return "", -1, "Command unimplemented" },
			"getinfo":          rpcOK(`{"relayfee":0.00001}`),
			"estimatefee":      rpcOK(`0.000300019586336571608`), // btcd: more digits than satoshis, rounded up
		}, 30_002, []string{"getnetworkinfo", "getinfo", "estimatesmartfee", "estimatefee"}},
		{"btcd without data", map[string]func([]json.RawMessage) (string, int, string){
			"getinfo":     rpcOK(`{"relayfee":0.00001}`),
			"estimatefee": func([]json.RawMessage) (string, int, string) { return "", -1, "not enough blocks" },
		}, 1_000, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &rpcDouble{answers: tc.answers}
			got, err := d.serve(t).FeeRate(t.Context(), 6)
			if err != nil || got != tc.want {
				t.Fatalf("rate %d, %v; want %d", got, err, tc.want)
			}
			if tc.calls != nil && !slices.Equal(d.calls, tc.calls) {
				t.Fatalf("calls %v, want %v", d.calls, tc.calls)
			}
		})
	}
}
