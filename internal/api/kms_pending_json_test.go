package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/pending"
)

// The pending answer written by hand is, byte for byte, what encoding/json
// (writeJSON) writes for the same transactions: every optional field set or
// not, strings that need escapes, answers longer than one chunk.
func TestWritePendingTxsAsEncodingJSON(t *testing.T) {
	u := func(v uint32) *uint32 { return &v }
	odd := []string{"", `"quoted"`, `back\slash`, "tab\there", "nl\nand\r\x00\x1f", "<a&b>", "é ü 漢字",
		"line\u2028sep\u2029", "bad \xff\xfe utf8", "\x7f del", "plain-0b3f5e9a-0000-4000-8000-000000000001"}
	txs := []pending.Tx{
		{ID: "65f1c0de0000000000000001", Chain: "ETH", SerializedTransaction: `{"to":"0x1","amount":"1"}`, Hashes: []string{"0b3f5e9a-0000-4000-8000-000000000001"}},
		{ID: "65f1c0de0000000000000002", Chain: "BTC", SerializedTransaction: "{}", Hashes: []string{}, Index: u(0),
			Signatures: []pending.Signature{{ID: "a"}, {ID: "b", Index: u(7)}}, WithdrawalID: "w-1", TxID: "0xabc",
			WithdrawalResponses: json.RawMessage(" [ {\"a\" : 1 ,\n \"b\": \"<x>\"} ] ")},
		{ID: "65f1c0de0000000000000003", Chain: "SOL", Hashes: nil, Index: u(math.MaxUint32), Signatures: []pending.Signature{}},
		{ID: "65f1c0de0000000000000004", Chain: "XRP", Hashes: []string{"x", "y"}, WithdrawalResponses: json.RawMessage(`{}`)},
	}
	for i, s := range odd {
		txs = append(txs, pending.Tx{ID: s, Chain: s, SerializedTransaction: s, Hashes: []string{s, odd[(i+1)%len(odd)]},
			Signatures: []pending.Signature{{ID: s, Index: u(uint32(i))}}, WithdrawalID: s, TxID: s})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	long := make([]pending.Tx, 3000)
	for i := range long {
		long[i] = txs[rng.IntN(len(txs))]
		long[i].SerializedTransaction = strings.Repeat("ab", rng.IntN(40)) + odd[rng.IntN(len(odd))]
	}
	cases := map[string][]pending.Tx{
		"nil": nil, "empty": {}, "varied": txs, "long": long,
		"bad responses": {txs[0], {ID: "x", WithdrawalResponses: json.RawMessage(`{"a":`)}},
	}
	for name, list := range cases {
		t.Run(name, func(t *testing.T) {
			want, got := httptest.NewRecorder(), httptest.NewRecorder()
			writeJSON(want, 200, list)
			writePendingTxs(got, list)
			if got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
				t.Fatalf("status %d %q, want %d %q", got.Code, got.Header().Get("Content-Type"), want.Code, want.Header().Get("Content-Type"))
			}
			if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				g, w := got.Body.Bytes(), want.Body.Bytes()
				n := 0
				for n < min(len(g), len(w)) && g[n] == w[n] {
					n++
				}
				t.Fatalf("answers differ from byte %d (%d and %d bytes): %s\nwant: %s", n, len(g), len(w), excerpt(g, n), excerpt(w, n))
			}
		})
	}
}

func excerpt(b []byte, at int) string {
	return fmt.Sprintf("%q", b[max(0, at-40):min(len(b), at+40)])
}
