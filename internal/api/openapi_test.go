package api

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain/chains"
)

func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	e.do("GET", "/openapi.json", "", nil).want(t, 200, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[routeKey(method, path)] = true
		}
	}
	served := map[string]bool{}
	for _, rt := range e.srv.routes() {
		k := routeKey(rt.method, rt.path)
		served[k] = true
		if !documented[k] {
			t.Errorf("route %s is missing from the OpenAPI document", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("OpenAPI documents %s, which is not served", k)
		}
	}
}

// Every errorCode the code can produce is in the document's enum.
func TestOpenAPIListsErrorCodes(t *testing.T) {
	b, _ := json.Marshal(openAPIDocument())
	var doc struct {
		Components struct {
			Schemas struct {
				Error struct {
					Properties struct {
						ErrorCode struct {
							Enum []string `json:"enum"`
						} `json:"errorCode"`
					} `json:"properties"`
				} `json:"Error"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	enum := doc.Components.Schemas.Error.Properties.ErrorCode.Enum
	codeRE := regexp.MustCompile(`^[a-z]+(\.[a-zA-Z]+)+$`)
	for _, c := range ErrorCodes {
		if !slices.Contains(enum, c) || !codeRE.MatchString(c) {
			t.Errorf("error code %q is not a documented dotted identifier", c)
		}
	}
	if !strings.Contains(string(b), `"security":[{"ApiKey":[]}]`) {
		t.Error("the /v3 operations do not declare the API key")
	}
}

// The document's chain and slug enums, and the validation message, are the
// chain table's, in its order.
func TestOpenAPIChainEnumsAreTheTable(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string `json:"name"`
				Schema struct {
					Enum []string `json:"enum"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
		Components struct {
			Schemas struct {
				Chain struct {
					Enum []string `json:"enum"`
				} `json:"Chain"`
			} `json:"schemas"`
		} `json:"components"`
	}
	e.do("GET", "/openapi.json", "", nil).want(t, 200, &doc)
	if got, want := doc.Components.Schemas.Chain.Enum, chains.Codes(); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("Chain enum %v, table %v", got, want)
	}
	p := doc.Paths["/v3/{slug}/broadcast"]["post"].Parameters
	if len(p) != 1 || p[0].Name != "slug" || !slices.Equal(p[0].Schema.Enum, chains.Slugs()) {
		t.Errorf("slug parameter %+v, table %v", p, chains.Slugs())
	}
	if want := "must be one of " + strings.Join(chains.Codes(), ", "); chainEnumMsg != want {
		t.Errorf("validation message %q, want %q", chainEnumMsg, want)
	}
}
