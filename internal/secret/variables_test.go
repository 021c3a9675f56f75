package secret

import (
	"go/ast"
	"go/token"
	"slices"
	"strconv"
	"testing"

	"github.com/custoskms/custos/internal/gosrc"
)

// Every variable a password source reads is listed by Variables, so
// diagnostics show it (masked when secret): the sources are parsed for their
// env.setting, env.settings and env.get calls.
func TestVariablesListEverythingTheSourcesRead(t *testing.T) {
	fset, files, err := gosrc.ParseDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, v := range Variables() {
		listed = append(listed, v.Name)
	}
	read := 0
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "setting" && sel.Sel.Name != "settings" && sel.Sel.Name != "get") {
				return true
			}
			for _, a := range call.Args {
				lit, ok := a.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, _ := strconv.Unquote(lit.Value)
				want := []string{v}
				if sel.Sel.Name != "get" {
					want = []string{"CUSTOS_" + v, "TATUM_KMS_" + v}
				}
				for _, w := range want {
					read++
					if !slices.Contains(listed, w) {
						t.Errorf("%s reads %s, which Variables does not list", fset.Position(lit.Pos()), w)
					}
				}
			}
			return true
		})
	}
	if read < 20 {
		t.Fatalf("found only %d variable reads in the sources: the parse missed them", read)
	}
}
