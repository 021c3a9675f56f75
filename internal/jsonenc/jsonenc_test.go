package jsonenc

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// odd need every kind of escape json.Marshal writes, or none.
var odd = []string{
	"", "a", `"`, `\`, `a"b\c`, "<script>&amp;</script>", "\x00\x01\x1f\x7f", "\b\f\n\r\t",
	"é", "日本", "\u2028\u2029", "\xff\xfe", "a\xc3", "\U0001F600", `{"to":"0xabc","value":"1"}`,
}

// checkValue fails t unless Value writes v as json.Marshal does, after a
// prefix it keeps.
func checkValue(t *testing.T, v any) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, gerr := Value([]byte("x,"), v)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%#v: error %v, want %v", v, gerr, werr)
	}
	if werr == nil && !bytes.Equal(got, append([]byte("x,"), want...)) {
		t.Fatalf("%#v:\n got %s\nwant x,%s", v, got, want)
	}
}

func TestValueIsJSONMarshal(t *testing.T) {
	values := []any{nil, true, false, 0, -1, math.MaxInt64, int64(math.MinInt64), uint32(math.MaxUint32), uint64(math.MaxUint64),
		[]string(nil), []string{}, odd, []uint32(nil), []uint32{}, []uint32{0, 7, math.MaxUint32},
		1.5, json.Number("12"), []any{"a", 1}, map[string]any{"b": "<", "a": []uint32{1}}, make(chan int), math.NaN()}
	for _, s := range odd {
		values = append(values, s)
	}
	for _, v := range values {
		checkValue(t, v)
	}
}

// checkNoHTML fails t unless StringNoHTML writes s as a json.Encoder with
// SetEscapeHTML(false) does.
func checkNoHTML(t *testing.T, s string) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	want := append([]byte("x,"), bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
	if got := StringNoHTML([]byte("x,"), s); !bytes.Equal(got, want) {
		t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
	}
}

func TestStringNoHTMLIsTheEncoders(t *testing.T) {
	// '<', '>' and '&' beside a byte only the encoder writes.
	for _, s := range append(odd, "<é>&", "a&b\x01", "\u2028<") {
		checkNoHTML(t, s)
	}
}

func FuzzString(f *testing.F) {
	for _, s := range odd {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkValue(t, s)
		checkValue(t, []string{s, s + "x"})
		checkNoHTML(t, s)
	})
}
