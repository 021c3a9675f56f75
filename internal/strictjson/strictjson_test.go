package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCheckRefusesDuplicateAndCaseVariantKeys(t *testing.T) {
	for _, doc := range []string{
		`{"serializedTransaction":"A","SerializedTransaction":"B"}`,
		`{"id":"a","id":"b"}`,
		`{"a":1,"\u0061":2}`,                     // the same key once escaped
		`{"kind":1,"\u212aind":2}`,               // Kelvin sign folds to k in Go's decoder
		`{"s":1,"\u017f":2}`,                     // long s folds to s
		`{"x":[{"to":"a"},{"to":"b","TO":"c"}]}`, // nested in an array
		`[1,{"a":{"b":1,"B":2}}]`,                // nested in an object
		`{"a":{},"b":[],"A":null}`,               // after empty containers
	} {
		err := Check([]byte(doc))
		var de *DuplicateKeyError
		if !errors.Is(err, ErrDuplicateKey) || !errors.As(err, &de) {
			t.Errorf("%s: %v, want ErrDuplicateKey", doc, err)
		}
	}
}

func TestCheckAcceptsDistinctKeys(t *testing.T) {
	for _, doc := range []string{
		`{}`, `[]`, `"x"`, `12`, ` {"a":1} `,
		`{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}`, // one key per object, at any depth
		`{"gasPrice":"1","gasLimit":"2","to":"0x","value":"3"}`,
		`{"ä":1,"ö":2}`,
	} {
		if err := Check([]byte(doc)); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
}

func TestCheckRefusesMalformed(t *testing.T) {
	for _, doc := range []string{``, `{`, `{"a":1`, `{"a":1}{"a":2}`, `{"a":1} x`, `{"a" 1}`, `[1,]`, `{"a":1}]`} {
		if err := Check([]byte(doc)); err == nil {
			t.Errorf("%q accepted", doc)
		}
	}
}

func TestDepthNamesTheObject(t *testing.T) {
	var de *DuplicateKeyError
	if !errors.As(Check([]byte(`{"ID":1,"id":2}`)), &de) || de.Depth != 0 || de.Other != "ID" || de.Key != "id" {
		t.Fatalf("top level: %+v", de)
	}
	if !errors.As(Check([]byte(`{"a":[{"id":1,"Id":2}]}`)), &de) || de.Depth != 2 {
		t.Fatalf("nested: %+v", de)
	}
}

// FuzzCheck holds Check to what Go's decoder does: whatever Check accepts
// is valid JSON, and no accepted object has two keys that strings.EqualFold
// calls equal.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":1,"A":2}`, `{"serializedTransaction":"A"}`, `[{"k":1},{"K":1}]`, `{"\u212a":1,"k":2}`, `{}`, `1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := Check(b)
		if err != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		// Numbers as json.Number: a valid number beyond float64's range
		// (1e400) is JSON all the same.
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		walk(t, v)
	})
}

func walk(t *testing.T, v any) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k, x := range v {
			for _, o := range keys {
				if strings.EqualFold(o, k) {
					t.Fatalf("accepted %q beside %q", k, o)
				}
			}
			keys = append(keys, k)
			walk(t, x)
		}
	case []any:
		for _, x := range v {
			walk(t, x)
		}
	}
}

// FuzzCheckQuick holds Check's quick reader to the token reader it stands
// in front of: a document the quick reader takes is one the token reader
// accepts.
func FuzzCheckQuick(f *testing.F) {
	for _, s := range []string{`{"a":1,"A":2}`, `{"serializedTransaction":"A"}`, `[{"k":1},{"K":1}]`, `{"\u212a":1,"k":2}`, `{}`, `1`,
		` [1, -0.5e+3, true, false, null, "x\u00e9\n", {"a":{"b":[]}}] `, `01`, `1.`, `"\x"`, "\"\x01\"", `{"a":1,}`, `[1 2]`, `{"a" 1}`, `tru`, `-`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if plainValue(b) {
			if err := tokenCheck(b); err != nil {
				t.Fatalf("%q: taken by the quick reader, refused by the token reader: %v", b, err)
			}
		}
	})
}

func TestPlainString(t *testing.T) {
	for in, want := range map[string]string{`"ETH"`: "ETH", `""`: "", `"a b~"`: "a b~"} {
		if got, ok := PlainString([]byte(in)); !ok || got != want {
			t.Errorf("%s: %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{``, `"`, `ETH`, `"ETH" `, `"E"TH"`, `"a\"b"`, `"a\nb"`, "\"a\nb\"", `"é"`, `"ETH"x`, `null`} {
		if got, ok := PlainString([]byte(in)); ok {
			t.Errorf("%s: accepted as %q", in, got)
		}
	}
}
