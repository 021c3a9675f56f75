package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"testing"
)

// objectSeeds are documents Object must read as Check and json.Unmarshal
// do: plain ones its quick reader takes, and every kind it leaves to them.
var objectSeeds = []string{
	`{"chainId":11155111,"gasLimit":21000,"gasPrice":"20000000000","nonce":0,"to":"0x8e2a1ab44092f1cd399665c160e61d44d145a61f","value":"1"}`,
	` {"a" : [1, -0.5e+3, true, false, null, {"b":{}}, []] , "c":"\"\\\/\b\f\n\r\t\u00e9", "d":"` + "\xff" + `"} `,
	`{}`, `{"a":{"A":1}}`, `{"a":[{"x":1},{"x":2}]}`, `{"a":-0,"b":0.0e0,"c":1E-2}`,
	// Refused by Check.
	`{"a":1,"A":2}`, `{"a":1,"a":2}`, `{"x":[{"to":"a","TO":"b"}]}`, `{"kind":1,"\u212aind":2}`, `{"a":1,"\u0061":2}`,
	// Not JSON.
	``, `{`, `{"a":1`, `{"a":1}{"a":2}`, `{"a":1} x`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":+1}`,
	`{"a":1e}`, `{"a":tru}`, `{"a":truex}`, `{"a":"\x01"}`, `{"a":"\q"}`, `{"a":"\u12g4"}`, `{"a":[1,]}`, `{"a":1,}`,
	`{,}`, `{"a":1}]`, "{\"a\":1}\v", `{"a":-}`, `{'a':1}`,
	// JSON but no object.
	`[1]`, `"x"`, `12`, `null`,
	// Left to Check: an escaped or non-ASCII key, deep nesting, many keys.
	`{"\u0061":1}`, `{"ä":1,"ö":2}`, `{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	`{"k1":1,"k2":1,"k3":1,"k4":1,"k5":1,"k6":1,"k7":1,"k8":1,"k9":1,"k10":1,"k11":1,"k12":1,"k13":1,"k14":1,"k15":1,"k16":1,"k17":1,"k18":1,"k19":1,"k20":1,"k21":1,"k22":1,"k23":1,"k24":1,"k25":1,"k26":1,"k27":1,"k28":1,"k29":1,"k30":1,"k31":1,"k32":1,"k33":1}`,
}

func TestObjectIsCheckAndDecode(t *testing.T) {
	for _, doc := range objectSeeds {
		sameAsCheck(t, []byte(doc))
	}
}

// The quick reader takes plain documents itself, and never one Check
// refuses.
func TestPlainObjectTakesOnlyWhatCheckAccepts(t *testing.T) {
	for _, doc := range objectSeeds[:6] {
		if _, ok := plainObject([]byte(doc)); !ok {
			t.Errorf("%s: left to Check", doc)
		}
	}
	for _, doc := range objectSeeds[6:] {
		if _, ok := plainObject([]byte(doc)); ok && Check([]byte(doc)) != nil {
			t.Errorf("%s: taken, and Check refuses it", doc)
		}
	}
}

func FuzzObject(f *testing.F) {
	for _, s := range objectSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(sameAsCheck)
}

// sameAsCheck fails t unless Object reads b as Check followed by
// json.Unmarshal into a map[string]json.RawMessage does, with Check's error.
func sameAsCheck(t *testing.T, b []byte) {
	t.Helper()
	got, err := Object(b)
	if cerr := Check(b); cerr != nil {
		if err == nil || err.Error() != cerr.Error() {
			t.Fatalf("%q: Object %v, Check %v", b, err, cerr)
		}
		var dup *DuplicateKeyError
		if errors.As(cerr, &dup) != errors.As(err, &dup) {
			t.Fatalf("%q: %T, want %T", b, err, cerr)
		}
		return
	}
	var want map[string]json.RawMessage
	if json.Unmarshal(b, &want) != nil || want == nil {
		if !errors.Is(err, ErrNotObject) {
			t.Fatalf("%q: %v, want ErrNotObject", b, err)
		}
		return
	}
	if err != nil || !maps.EqualFunc(got, want, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
		t.Fatalf("%q: %v %q\nwant %q", b, err, got, want)
	}
}

func BenchmarkObject(b *testing.B) {
	doc := []byte(objectSeeds[0])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Object(doc); err != nil {
			b.Fatal(err)
		}
	}
}
