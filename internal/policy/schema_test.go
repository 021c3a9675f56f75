package policy

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const docsDir = "../../docs"

// schema compiles docs/policy.schema.json.
func schema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join(docsDir, "policy.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("policy.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("policy.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func schemaAccepts(t testing.TB, s *jsonschema.Schema, doc string) error {
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// docExamples are the ```json blocks of docs/policy.md: each is a whole policy file.
func docExamples(t *testing.T) []string {
	b, err := os.ReadFile(filepath.Join(docsDir, "policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	if len(out) < 3 {
		t.Fatalf("found %d examples in policy.md", len(out))
	}
	return out
}

// The documented examples and the example file are policies both the schema
// and the parser accept.
func TestDocumentedExamplesAreValid(t *testing.T) {
	s := schema(t)
	ex, err := os.ReadFile(filepath.Join(docsDir, "policy.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i, doc := range append(docExamples(t), string(ex)) {
		if err := schemaAccepts(t, s, doc); err != nil {
			t.Errorf("example %d: schema: %v", i, err)
		}
		if _, err := Parse(strings.NewReader(doc)); err != nil {
			t.Errorf("example %d: parser: %v", i, err)
		}
	}
}

const minimal = `{"version":1,"rules":[]}`

// wrap puts one rule into a policy file.
func wrap(rule string) string { return `{"version":1,"rules":[` + rule + `]}` }

// limits is an allow rule with the given limits.
func limits(l string) string {
	return wrap(`{"name":"r","match":{},"action":"allow","limits":` + l + `}`)
}

// The schema and the parser agree on what is a policy.
func TestSchemaAndParserAgree(t *testing.T) {
	s := schema(t)
	accepted := []string{
		minimal,
		wrap(`{"name":"a","match":{},"action":"deny"}`),
		wrap(`{"name":"a","action":"deny"}`),
		wrap(`{"name":"a","match":{"chains":["ETH","BTC"],"network":"testnet","wallets":["w"],"signers":["0xab"]},"action":"allow"}`),
		limits(`{}`),
		limits(`{"maxAmount":{"":"0","0xAB":"115792089237316195423570985008687907853269984665640564039457584007913129639935"}}`),
		limits(`{"daily":{"count":0}}`),
		limits(`{"daily":{"volume":{}}}`),
		limits(`{"to":{"allow":[],"deny":["x"]}}`),
		limits(`{"fee":{"max":"1","gasPrice":"2","maxPriorityFeePerGas":"3"}}`),
		limits(`{"indexes":{"min":0,"max":4294967295}}`),
		limits(`{"calls":[]}`),
		limits(`{"calls":[{"method":"0xa9059cbb"},{"contract":"T"},{"contract":"","method":"transfer"}]}`),
		wrap(`{"name":"` + strings.Repeat("é", 100) + `","match":{},"action":"deny"}`),
	}
	refused := []string{
		``, `[]`, `{}`, `{"version":1}`, `{"version":2,"rules":[]}`, `{"version":"1","rules":[]}`,
		`{"version":1,"rules":[],"extra":1}`, `{"version":1,"rules":null}`,
		wrap(`{}`),
		wrap(`{"name":"","match":{},"action":"deny"}`),
		wrap(`{"name":"` + strings.Repeat("a", 101) + `","match":{},"action":"deny"}`),
		wrap(`{"name":"a","match":{},"action":"Allow"}`),
		wrap(`{"name":"a","match":{},"action":"deny","limits":{}}`),
		wrap(`{"name":"a","match":{"chains":["eth"]},"action":"deny"}`),
		wrap(`{"name":"a","match":{"network":""},"action":"deny"}`),
		wrap(`{"name":"a","match":{"network":"devnet"},"action":"deny"}`),
		wrap(`{"name":"a","match":{"wallets":[""]},"action":"deny"}`),
		wrap(`{"name":"a","match":{"chain":["ETH"]},"action":"deny"}`),
		wrap(`{"name":"a","match":null,"action":"deny"}`),
		limits(`{"maxAmount":{"":"1.5"}}`),
		limits(`{"maxAmount":{"":"-1"}}`),
		limits(`{"maxAmount":{"":"01"}}`),
		limits(`{"maxAmount":{"":1}}`),
		limits(`{"maxAmount":{"":"` + strings.Repeat("9", 79) + `"}}`),
		limits(`{"daily":{}}`),
		limits(`{"daily":{"count":-1}}`),
		limits(`{"daily":{"count":1.5}}`),
		limits(`{"to":{"allow":[""]}}`),
		limits(`{"fee":{"max":""}}`),
		limits(`{"fee":{"gasLimit":"1"}}`),
		limits(`{"indexes":{"min":0}}`),
		limits(`{"indexes":{"min":0,"max":4294967296}}`),
		limits(`{"calls":[{}]}`),
		limits(`{"calls":[{"contract":"","method":""}]}`),
		limits(`{"calls":[{"method":"0xa9059c"}]}`),
		limits(`{"calls":[{"method":"0xa9059cbbff"}]}`),
		limits(`{"Calls":[]}`),
		limits(`null`),
	}
	for _, doc := range accepted {
		if err := schemaAccepts(t, s, doc); err != nil {
			t.Errorf("schema refuses %s: %v", doc, err)
		}
		if _, err := Parse(strings.NewReader(doc)); err != nil {
			t.Errorf("parser refuses %s: %v", doc, err)
		}
	}
	for _, doc := range refused {
		if err := schemaAccepts(t, s, doc); err == nil {
			t.Errorf("schema accepts %s", doc)
		}
		if _, err := Parse(strings.NewReader(doc)); !errors.Is(err, ErrInvalid) {
			t.Errorf("parser accepts %s (%v)", doc, err)
		}
	}
}

// What a JSON Schema cannot say, the parser refuses on its own: a key given
// twice or in another case (which Go's decoder would take), two rules of one
// name, one asset spelled twice, an index range upside down.
func TestParserRefusesBeyondTheSchema(t *testing.T) {
	for _, doc := range []string{
		`{"version":1,"version":1,"rules":[]}`,
		`{"Version":1,"rules":[]}`,
		`{"version":1,"rules":[],"RULES":[]}`,
		wrap(`{"name":"a","match":{},"action":"deny","action":"allow"}`),
		limits(`{"maxAmount":{"":"1","":"2"}}`),
		limits(`{"maxAmount":{"0xAB":"1","0xab":"2"}}`),
		wrap(`{"name":"a","match":{},"action":"deny"},{"name":"a","match":{},"action":"allow"}`),
		limits(`{"indexes":{"min":5,"max":4}}`),
		minimal + ` {}`,
	} {
		if _, err := Parse(strings.NewReader(doc)); !errors.Is(err, ErrInvalid) {
			t.Errorf("parser accepts %s (%v)", doc, err)
		}
	}
}
