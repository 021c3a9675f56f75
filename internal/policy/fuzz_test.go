package policy

import (
	"strings"
	"testing"
)

// The parser never panics, and what it accepts the schema accepts too: the
// Go side is never the more lenient one.
func FuzzParse(f *testing.F) {
	for _, s := range []string{minimal, wrap(`{"name":"a","match":{},"action":"deny"}`),
		limits(`{"maxAmount":{"":"1"},"daily":{"count":1},"to":{"allow":["x"]},"fee":{"max":"1"},"indexes":{"min":0,"max":1},"calls":[{"method":"0xa9059cbb"}]}`),
		`{"version":1,"version":1,"rules":[]}`, `{"Version":1,"rules":[]}`, limits(`null`)} {
		f.Add(s)
	}
	s := schema(f)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse(strings.NewReader(doc))
		if err != nil {
			return
		}
		if err := schemaAccepts(t, s, doc); err != nil {
			t.Fatalf("parser accepts, schema refuses %q: %v", doc, err)
		}
		_ = p.Summary()
		_ = p.Evaluate(families[0].in("1", evmTo, "1", 0))
	})
}
