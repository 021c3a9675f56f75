package audit

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// oddStrings need every kind of escape json.Marshal writes, or none.
var oddStrings = []string{"", "a", `"`, `\`, "<&>", "\x00\x1f\x7f", "\n\t", "é", "\u2028", "\xff", "key.use", "65f1c0de0000000000000001"}

// checkCanonical fails t unless e's line is json.Marshal's encoding of the
// entry with its hash, and the hash is that of the encoding without it.
func checkCanonical(t *testing.T, e Entry) {
	t.Helper()
	line, err := e.seal()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(e)
	if !bytes.Equal(line, want) {
		t.Fatalf("line\n got %s\nwant %s", line, want)
	}
	hash := e.Hash
	e.Hash = ""
	body, _ := json.Marshal(e)
	if e.Hash = hash; !bytes.Equal(append(body[:len(body)-1], []byte(`,"hash":"`+hash+`"}`)...), line) || !isHash(hash) {
		t.Fatalf("hash %s is not over %s", hash, body)
	}
}

// genEntry is an entry with fields of every kind the log's callers and
// ParseLine put in them.
func genEntry(r *rand.Rand) Entry {
	str := func() string { return oddStrings[r.IntN(len(oddStrings))] }
	e := Entry{Seq: r.Uint64(), Time: str(), Actor: str(), User: str(), PID: r.IntN(1 << 22), Event: str(), Prev: Genesis}
	if r.IntN(5) == 0 {
		return e // no fields
	}
	e.Fields = map[string]any{}
	for range r.IntN(8) {
		var v any
		switch r.IntN(11) {
		case 0:
			v = str()
		case 1:
			v = []string{str(), str()}
		case 2:
			v = []uint32{r.Uint32()}
		case 3:
			v = r.IntN(2) == 0
		case 4:
			v = r.Int() - r.Int()
		case 5:
			v = r.Uint64()
		case 6:
			v = json.Number("12.5e3")
		case 7:
			v = []any{str(), json.Number("1"), nil}
		case 8:
			v = map[string]any{str(): str(), "z": []uint32(nil)}
		case 9:
			v = nil
		case 10:
			v = []string(nil)
		}
		e.Fields[str()+str()] = v
	}
	return e
}

func TestSealIsJSONMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 4))
	for range 20000 {
		checkCanonical(t, genEntry(r))
	}
	checkCanonical(t, daemonEntry(3))
	checkCanonical(t, Entry{Fields: map[string]any{}})
}

func FuzzSeal(f *testing.F) {
	f.Add("key.use", "id", "65f1c0de0000000000000001", uint64(1), int64(-1))
	f.Add("<&>", "\u2028", "\xff", uint64(0), int64(1<<40))
	f.Fuzz(func(t *testing.T, event, key, value string, seq uint64, n int64) {
		checkCanonical(t, Entry{Seq: seq, Time: value, Actor: key, User: event, PID: int(n), Event: event, Prev: Genesis,
			Fields: map[string]any{key: value, key + "2": n, value: []string{key}, "b": []uint32{uint32(seq)}}})
	})
}
