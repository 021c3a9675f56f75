package api

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
)

// The served document may point readers at the repository's design document
// only, and only at sections it has, so a renumbering cannot leave a dangling
// reference in what clients read.
func TestOpenAPICitesDesignSections(t *testing.T) {
	b, err := json.Marshal(New(Config{}).openapiDoc)
	if err != nil {
		t.Fatal(err)
	}
	design, err := os.ReadFile("../../docs/design.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{2,3} (\d+(?:\.\d+)?)\.? `).FindAllSubmatch(design, -1) {
		sections[string(m[1])] = true
	}
	cites := regexp.MustCompile(`docs/design\.md §(\d+(?:\.\d+)?)`).FindAllSubmatch(b, -1)
	if len(cites) == 0 {
		t.Fatal("the OpenAPI document cites no section of docs/design.md")
	}
	for _, m := range cites {
		if !sections[string(m[1])] {
			t.Errorf("the OpenAPI document cites docs/design.md §%s, which has no such section", m[1])
		}
	}
	// Any other "§" citation names a document a client cannot read.
	all := regexp.MustCompile(`§`).FindAllIndex(b, -1)
	if len(all) != len(cites) {
		t.Errorf("the OpenAPI document has %d § citations, %d of them of docs/design.md", len(all), len(cites))
	}
}
