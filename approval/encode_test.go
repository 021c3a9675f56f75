package approval

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/custoskms/custos/intent"
)

// pieces are joined into strings that need every kind of escape
// json.Marshal writes (quotes, control characters, HTML characters, U+2028,
// invalid UTF-8), or none.
var pieces = []string{"a", "0x5290", `"`, `\`, "<", ">", "&", "\x00", "\x1f", "\x7f", "\n", "\t", "é", "日",
	"\u2028", "\u2029", "\xff", "\xc3", "\U0001F600", `{"to":"0xabc","value":"1"}`}

// genString joins up to four pieces, or is random bytes of any value.
func genString(r *rand.Rand) string {
	if r.IntN(4) > 0 {
		s := ""
		for range r.IntN(5) {
			s += pieces[r.IntN(len(pieces))]
		}
		return s
	}
	b := make([]byte, r.IntN(12))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func genStrings(r *rand.Rand) []string {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	ss := make([]string, 1+r.IntN(3))
	for i := range ss {
		ss[i] = genString(r)
	}
	return ss
}

// genRequest is a request with every optional part present or not.
func genRequest(r *rand.Rand) Request {
	opt := func(s string) string {
		if r.IntN(2) == 0 {
			return ""
		}
		return s
	}
	req := Request{Version: r.IntN(5) - 2, ID: genString(r), Chain: genString(r), Network: genString(r),
		SignatureIDs: genStrings(r), SerializedTransaction: genString(r), Digest: genString(r),
		Timestamp: r.Int64() - r.Int64()}
	if r.IntN(4) > 0 {
		req.Indexes = make([]uint32, r.IntN(3))
		for i := range req.Indexes {
			req.Indexes[i] = r.Uint32()
		}
	}
	if r.IntN(2) == 0 {
		req.QueuedBy = &QueuedBy{APIKeyID: genString(r)}
	}
	in := &req.Intent
	in.Chain, in.Network, in.ChainID = genString(r), genString(r), opt(genString(r))
	in.Signers, in.Inputs = genStrings(r), genStrings(r)
	if r.IntN(4) > 0 {
		in.Transfers = make([]intent.Transfer, r.IntN(3))
		for i := range in.Transfers {
			in.Transfers[i] = intent.Transfer{To: genString(r), Amount: genString(r), Asset: opt(genString(r)), Change: r.IntN(2) == 0}
		}
	}
	if r.IntN(2) == 0 {
		in.Fee = &intent.Fee{Max: genString(r), GasPrice: opt(genString(r)), MaxPriorityFeePerGas: opt(genString(r)),
			GasLimit: opt(genString(r)), Asset: opt(genString(r))}
	}
	if r.IntN(2) == 0 {
		seq := r.Uint64()
		in.Sequence = &seq
	}
	if r.IntN(3) > 0 {
		in.Calls = make([]intent.Call, r.IntN(3))
		for i := range in.Calls {
			in.Calls[i] = intent.Call{Contract: genString(r), Method: opt(genString(r)), Data: opt(genString(r))}
		}
	}
	in.Memo = opt(genString(r))
	return req
}

// checkEncoding fails t unless AppendRequest writes what json.Marshal does.
func checkEncoding(t *testing.T, req Request) {
	t.Helper()
	want, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	prefix := []byte("prefix,")
	got := AppendRequest(bytes.Clone(prefix), &req)
	if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("AppendRequest(%+v)\n got %s\nwant %s", req, got[len(prefix):], want)
	}
}

func TestAppendRequestIsJSONMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 5))
	for range 20000 {
		checkEncoding(t, genRequest(r))
	}
	checkEncoding(t, Request{})
}

func FuzzAppendRequest(f *testing.F) {
	for i, s := range pieces {
		f.Add(s, pieces[len(pieces)-1-i], uint64(len(s)), int64(-len(s)), uint8(i*13))
	}
	f.Fuzz(func(t *testing.T, a, b string, n uint64, ts int64, shape uint8) {
		set := func(bit uint8, s string) string {
			if shape&(1<<bit) == 0 {
				return ""
			}
			return s
		}
		req := Request{Version: int(ts % 7), ID: a, Chain: b, Network: a + b, SignatureIDs: []string{b, a},
			Indexes: []uint32{uint32(n), uint32(n >> 32)}, SerializedTransaction: b + a, Digest: Digest(a), Timestamp: ts,
			Intent: intent.Intent{Chain: a, Network: b, ChainID: set(0, a), Signers: []string{a},
				Transfers: []intent.Transfer{{To: b, Amount: a, Asset: set(1, b), Change: shape&4 != 0}},
				Memo:      set(3, b), Inputs: []string{set(4, a)}}}
		if shape&32 != 0 {
			req.QueuedBy = &QueuedBy{APIKeyID: b}
			req.Intent.Sequence = &n
		}
		if shape&64 != 0 {
			req.Intent.Fee = &intent.Fee{Max: a, GasPrice: set(5, b), MaxPriorityFeePerGas: set(6, a), GasLimit: set(7, b), Asset: set(0, a)}
			req.Intent.Calls = []intent.Call{{Contract: b, Method: set(1, a), Data: set(2, b)}}
		}
		if shape&128 != 0 {
			req.SignatureIDs, req.Indexes, req.Intent.Signers, req.Intent.Transfers = nil, nil, nil, nil
		}
		checkEncoding(t, req)
	})
}
