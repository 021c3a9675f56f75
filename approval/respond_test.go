package approval

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// tricky are strings json.Marshal escapes or rewrites.
var tricky = []string{"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\x00\x1f\x7f",
	"é ü 日本", "\u2028\u2029", "bad \xff\xfe utf-8", strings.Repeat("é", 600)[:1023], "sha256=" + strings.Repeat("ab", 32)}

// appendBatchResponse writes exactly what json.Marshal writes.
func TestBatchResponseIsMarshal(t *testing.T) {
	var items []BatchItem
	for i, s := range tricky {
		items = append(items, BatchItem{Response: Response{ID: s, Digest: tricky[(i+1)%len(tricky)],
			Decision: Decision(tricky[(i+2)%len(tricky)]), Reason: tricky[(i+3)%len(tricky)], Timestamp: int64(i*1e9) - 5}, Signature: s})
	}
	for n := range len(items) + 1 {
		out := BatchResponse{Responses: items[:n]}
		want, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendBatchResponse(nil, out.Responses); !bytes.Equal(got, want) {
			t.Fatalf("%d items:\n%s\nwant\n%s", n, got, want)
		}
	}
}

func FuzzBatchResponseIsMarshal(f *testing.F) {
	for i, s := range tricky {
		f.Add(s, tricky[(i+1)%len(tricky)], tricky[(i+2)%len(tricky)], int64(i)-1)
	}
	f.Fuzz(func(t *testing.T, id, digest, reason string, ts int64) {
		out := BatchResponse{Responses: []BatchItem{
			{Response: Response{ID: id, Digest: digest, Decision: Refuse, Reason: reason, Timestamp: ts}, Signature: reason},
			{Response: Response{ID: reason, Digest: id, Decision: Decision(digest), Timestamp: -ts}, Signature: id},
		}}
		want, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendBatchResponse(nil, out.Responses); !bytes.Equal(got, want) {
			t.Fatalf("\n%s\nwant\n%s", got, want)
		}
	})
}
