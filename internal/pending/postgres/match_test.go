package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/pending/postgres/pgtest"
)

func TestDecodeHashes(t *testing.T) {
	for _, in := range []string{
		`[]`, `["a"]`, `["a","b"]`, `["0x12","",""]`, `["é✓"]`,
		`["a\"b"]`, `["\u003c"]`, `[ "a" ]`, `["a" ,"b"]`, `null`,
		`["a"`, `["a",]`, `[1]`, `["a""b"]`, `["a` + "\x01" + `"]`, `[`, ``, `["a"]x`,
	} {
		got, err := decodeHashes(in)
		var want []string
		wantErr := json.Unmarshal([]byte(in), &want)
		if want == nil {
			want = []string{}
		}
		switch {
		case (err != nil) != (wantErr != nil):
			t.Errorf("decodeHashes(%q): error %v, json.Unmarshal's %v", in, err, wantErr)
		case err == nil && !reflect.DeepEqual(got, want):
			t.Errorf("decodeHashes(%q) = %q, json.Unmarshal gives %q", in, got, want)
		}
	}
}

func TestDecodeInt8ArrayRefuses(t *testing.T) {
	good := encodeInt8Array([]int64{1, 2})
	for name, b := range map[string][]byte{
		"truncated":      good[:len(good)-1],
		"trailing":       append(slices.Clone(good), 0),
		"header only":    good[:10],
		"text elements":  func() []byte { b := slices.Clone(good); b[11] = oidText; return b }(),
		"two dimensions": func() []byte { b := slices.Clone(good); b[3] = 2; return b }(),
		"null element":   func() []byte { b := slices.Clone(good); copy(b[20:], []byte{0xff, 0xff, 0xff, 0xff}); return b }(),
	} {
		if _, err := decodeInt8Array(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// TestInt8ArrayRoundTrip sends lists in the binary format the queries use
// and reads them back the way the scan does.
func TestInt8ArrayRoundTrip(t *testing.T) {
	s, err := Open(context.Background(), pgtest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, list := range [][]int64{{}, {0}, {math.MinInt64, -1, 1, math.MaxInt64}, {5, 5, 3}} {
		var got []int64
		err := s.raw(context.Background(), `SELECT $1::bigint[]`, [][]byte{encodeInt8Array(list)}, []uint32{oidInt8Array},
			func(vals [][]byte) (err error) { got, err = decodeInt8Array(vals[0]); return err }, oidInt8Array)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(list) || !slices.Equal(got, list) {
			t.Errorf("sent %v, read back %v", list, got)
		}
	}
}

// TestPendingWaysAgree answers one list every way Pending can (probed in
// one or several parts, scanned and read in one or several parts) over a
// store that holds what each way must leave out: other tenants' and
// chains' transactions, completed and deleted ones, and index entries whose
// keys collide with the list's.
func TestPendingWaysAgree(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const tenant, other = "tenant-a", "tenant-b"
	id := func(i int) string { return fmt.Sprintf("sig-%04d", i) }
	var txs []pending.NewTx
	for i := range 60 {
		tx := pending.NewTx{Chain: "ETH", SerializedTransaction: fmt.Sprintf(`{"n":%d}`, i), Hashes: []string{id(i)}}
		switch i % 6 {
		case 1: // two IDs far apart in the list, so in different parts
			tx.Hashes = append(tx.Hashes, id(i+500))
		case 2:
			n, m := uint32(7), uint32(3)
			tx.Signatures = []pending.Signature{{ID: id(i + 1000), Index: &m}}
			tx.WithdrawalID, tx.WithdrawalResponses = "w-1", json.RawMessage(`[{"a":1}]`)
			tx.Index = &n
		case 3:
			tx.Chain = "BTC"
		}
		txs = append(txs, tx)
	}
	ids, err := s.Create(ctx, tenant, txs...)
	if err != nil {
		t.Fatal(err)
	}
	otherIDs, err := s.Create(ctx, other, pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{id(0)}})
	if err != nil {
		t.Fatal(err)
	}
	unlisted, err := s.Create(ctx, tenant, pending.NewTx{Chain: "ETH", SerializedTransaction: "{}", Hashes: []string{"not-asked-for"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, tenant, ids[6], "0xdone"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, tenant, ids[12], false); err != nil {
		t.Fatal(err)
	}
	// Collisions: list IDs whose keys find transactions without them, of
	// this tenant and chain and of another tenant.
	for i, victim := range map[int]string{9000: unlisted[0], 9001: otherIDs[0]} {
		if _, err := s.pool.Exec(ctx, `INSERT INTO pending_keys (k, seq) SELECT $1, seq FROM txs WHERE id = $2`,
			pending.SigKey(tenant, "ETH", id(i)), victim); err != nil {
			t.Fatal(err)
		}
	}
	var list []string
	for i := range 1100 {
		list = append(list, id(i))
	}
	list = append(list, id(9000), id(9001), id(4)) // and one twice
	q := pending.PendingQuery{Tenant: tenant, Chain: "ETH", SignatureIDs: list}

	var want []pending.Tx
	for i, tx := range txs {
		if tx.Chain != "ETH" || i == 6 || i == 12 {
			continue
		}
		want = append(want, pending.Tx{ID: ids[i], Chain: "ETH", SerializedTransaction: tx.SerializedTransaction, Hashes: tx.Hashes,
			Index: tx.Index, Signatures: tx.Signatures, WithdrawalID: tx.WithdrawalID, WithdrawalResponses: tx.WithdrawalResponses})
	}
	check := func(way string, got []pending.Tx, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", way, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %d transactions, want %d:\n got %+v\nwant %+v", way, len(got), len(want), got, want)
		}
	}
	got, err := s.Pending(ctx, q)
	check("Pending", got, err)
	ps := pending.NewProbeSet(tenant, "ETH", list)
	keys := ps.DistinctKeys()
	for _, parts := range []int{1, 2, 5} {
		got, err := s.inParts(ctx, ps, q, probeSQL, keys, parts)
		check(fmt.Sprintf("probe in %d parts", parts), got, err)
	}
	index := s.readIndex(ctx)
	if index.err != nil {
		t.Fatal(index.err)
	}
	seqs := index.match(ps.HasKey)
	for _, parts := range []int{1, 2, 5} {
		got, err := s.inParts(ctx, ps, q, bySeqsSQL, seqs, parts)
		check(fmt.Sprintf("scan, read in %d parts", parts), got, err)
	}
	// A list long enough to be matched against the whole (small) index.
	long := slices.Clone(list)
	for i := range scanMinKeys {
		long = append(long, fmt.Sprintf("unknown-%d", i))
	}
	got, err = s.Pending(ctx, pending.PendingQuery{Tenant: tenant, Chain: "ETH", SignatureIDs: long})
	check("Pending of a long list", got, err)
	// A list that matches nothing, both ways.
	none := pending.NewProbeSet(tenant, "ETH", []string{"nothing"})
	got, err = s.inParts(ctx, none, q, probeSQL, none.DistinctKeys(), 1)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("probe of nothing: %v, %v", got, err)
	}
	if seqs := index.match(none.HasKey); len(seqs) != 0 {
		t.Errorf("scan for nothing: %v", seqs)
	}
}
