package api

import (
	"encoding/json"
	"go/ast"
	"go/token"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/gosrc"
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

// The document's errorCode enum is exactly the set of codes the handlers can
// produce, read from the package's source rather than from ErrorCodes (which
// the document itself is built from): a code a handler returns but the enum
// lacks, or an enum entry no handler returns or no constant defines, fails.
func TestOpenAPIListsErrorCodes(t *testing.T) {
	e := newEnv(t)
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
	raw := e.do("GET", "/openapi.json", "", nil)
	raw.want(t, 200, &doc)
	enum := doc.Components.Schemas.Error.Properties.ErrorCode.Enum
	defined, produced := sourceErrorCodes(t)
	if len(produced) == 0 {
		t.Fatal("no error code found in the handlers' source")
	}
	codeRE := regexp.MustCompile(`^[a-z]+(\.[a-zA-Z]+)+$`)
	for c, where := range produced {
		if !slices.Contains(enum, c) {
			t.Errorf("error code %q (%s) is missing from the OpenAPI enum", c, where)
		}
		if !codeRE.MatchString(c) {
			t.Errorf("error code %q (%s) is not a dotted identifier", c, where)
		}
	}
	for _, c := range enum {
		if !slices.Contains(slices.Collect(maps.Values(defined)), c) {
			t.Errorf("the OpenAPI enum lists %q, which no Code constant defines", c)
		}
		if _, ok := produced[c]; !ok {
			t.Errorf("the OpenAPI enum lists %q, which no handler produces", c)
		}
	}
	if !strings.Contains(string(raw.body), `"security":[{"ApiKey":[]}]`) {
		t.Error("the /v3 operations do not declare the API key")
	}
}

// sourceErrorCodes parses the package's non-test Go files and returns the
// Code* string constants (name to value) and every code a handler can put in
// an error body (value to position): the value of each ErrorCode field in a
// composite literal, the first argument of forbidden, and any Code constant
// passed to a call, each either a Code constant or a string literal.
func sourceErrorCodes(t *testing.T) (defined map[string]string, produced map[string]string) {
	t.Helper()
	fset, parsed, err := gosrc.ParseDir(".")
	if err != nil {
		t.Fatal(err)
	}
	defined = map[string]string{}
	for _, f := range parsed {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, "Code") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						defined[n.Name], _ = strconv.Unquote(lit.Value)
					}
				}
			}
		}
	}
	produced = map[string]string{}
	add := func(x ast.Expr) {
		switch x := x.(type) {
		case *ast.Ident:
			if v, ok := defined[x.Name]; ok {
				produced[v] = fset.Position(x.Pos()).String()
			}
		case *ast.BasicLit:
			if v, err := strconv.Unquote(x.Value); err == nil && x.Kind == token.STRING {
				produced[v] = fset.Position(x.Pos()).String()
			}
		}
	}
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "ErrorCode" {
					add(n.Value)
				}
			case *ast.CallExpr:
				if fn, ok := n.Fun.(*ast.Ident); ok && fn.Name == "forbidden" && len(n.Args) > 0 {
					add(n.Args[0])
				}
				for _, a := range n.Args {
					if id, ok := a.(*ast.Ident); ok {
						add(id)
					}
				}
			}
			return true
		})
	}
	return defined, produced
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
