package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/custoskms/custos/internal/pending"
)

// The JSONB array is read by SQLite's json_each as the same integers, in order.
func TestJSONBIntArrayReadBySQLite(t *testing.T) {
	s := open(t).(*Store)
	defer s.Close()
	keys := []int64{math.MinInt64, -1, 0, 7, 12345678901, 123456789012, math.MaxInt64}
	for range 2000 {
		keys = append(keys, int64(rand.Uint64()))
	}
	for _, list := range [][]int64{keys[:1], keys[:7], keys} {
		rows, err := s.db.Query(`SELECT value FROM json_each(?) ORDER BY key`, jsonbIntArray(list))
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		rows.Close()
		if !slices.Equal(got, list) {
			t.Fatalf("json_each read %d values, want %d (first %v)", len(got), len(list), got[:min(3, len(got))])
		}
	}
}

// A list long enough to be split across connections answers exactly as the
// definition says — every pending transaction with an ID in the list, once,
// oldest first, whichever range its IDs fell in — whether the index is
// probed in SQLite or matched in memory.
func TestPendingLongListAcrossRanges(t *testing.T) {
	for _, from := range []int{indexMinKeys, math.MaxInt} {
		t.Run(fmt.Sprintf("indexFrom=%d", from), func(t *testing.T) { testPendingLongList(t, from) })
	}
}

func testPendingLongList(t *testing.T, indexFrom int) {
	ctx := context.Background()
	s := open(t).(*Store)
	defer s.Close()
	s.indexFrom = indexFrom
	const tenant = "65f1c0de0000000000000001"
	id := func(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }
	var txs []pending.NewTx
	for i := range 3000 {
		tx := pending.NewTx{Chain: "ETH", SerializedTransaction: fmt.Sprint(i), Hashes: []string{id(i), id(i + 50_000)}}
		if i%3 == 0 {
			tx.Hashes = []string{}
			tx.Signatures = []pending.Signature{{ID: id(i)}, {ID: id(i + 50_000)}}
		}
		txs = append(txs, tx)
	}
	txs = append(txs, pending.NewTx{Chain: "BSC", SerializedTransaction: "other chain", Hashes: []string{id(4)}})
	created, err := s.Create(ctx, tenant, txs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, tenant, created[8], "0xdone-000000"); err != nil {
		t.Fatal(err)
	}
	// Every even transaction by both its IDs (which sit in different key
	// ranges), every 5th by one, plus IDs nothing has and a duplicate.
	var list []string
	want := map[string]bool{}
	for i := range 3000 {
		switch {
		case i%2 == 0:
			list = append(list, id(i+50_000), id(i))
		case i%5 == 0:
			list = append(list, id(i))
		default:
			continue
		}
		if i != 8 {
			want[created[i]] = true
		}
	}
	for i := range 40_000 {
		list = append(list, id(100_000+i))
	}
	list = append(list, id(4), id(4))
	if len(list) < 2*parallelMinKeys {
		t.Fatalf("list of %d does not exercise the split", len(list))
	}
	got, err := s.Pending(ctx, pending.PendingQuery{Tenant: tenant, Chain: "ETH", SignatureIDs: list})
	if err != nil {
		t.Fatal(err)
	}
	if s.index.built != (indexFrom <= len(list)) {
		t.Fatalf("index built: %v, with indexFrom %d", s.index.built, indexFrom)
	}
	if len(got) != len(want) {
		t.Fatalf("%d transactions, want %d", len(got), len(want))
	}
	for i, tx := range got {
		if !want[tx.ID] || (i > 0 && tx.ID <= got[i-1].ID) || tx.Chain != "ETH" {
			t.Fatalf("answer %d: %s (want each once, oldest first)", i, tx.ID)
		}
	}
}

// stringArray reads what it accepts exactly as json.Unmarshal does, and
// leaves everything else (escapes, other bytes, other shapes) to it.
func TestStringArrayAsJSON(t *testing.T) {
	plain := []string{`[]`, `[""]`, `["a"]`, `["a","b c"]`, `[","]`, `["]"]`, `["x","",","]`,
		`["0b3f5e9a-0000-4000-8000-000000000001","0b3f5e9a-0000-4000-8000-000000000002"]`}
	other := []string{``, `[`, `]`, `[ "a"]`, `["a" ]`, `["a",]`, `["a""b"]`, `["a\"b"]`, `["\u00e9"]`,
		`["é"]`, "[\"a\tb\"]", `["a\u003cb"]`, `[1]`, `["a"]]`, `"a"`, `[null]`, "[\"\xff\"]"}
	for _, s := range plain {
		got, ok := stringArray(s)
		var want []string
		if err := json.Unmarshal([]byte(s), &want); err != nil || !ok || !slices.Equal(got, want) || got == nil {
			t.Errorf("%s: read %q (%v), json.Unmarshal %q (%v)", s, got, ok, want, err)
		}
	}
	for _, s := range other {
		if got, ok := stringArray(s); ok {
			t.Errorf("%s: read %q, want it left to json.Unmarshal", s, got)
		}
	}
	for range 2000 {
		b := []byte{'[', '"'}
		for range rand.IntN(12) {
			b = append(b, `ab",\]`[rand.IntN(6)])
		}
		b = append(b, '"', ']')
		var want []string
		err := json.Unmarshal(b, &want)
		if got, ok := stringArray(string(b)); ok && (err != nil || !slices.Equal(got, want)) {
			t.Fatalf("%s: read %q, json.Unmarshal %q (%v)", b, got, want, err)
		}
	}
}
