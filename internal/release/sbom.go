package release

import (
	"debug/buildinfo"
	"encoding/json"
	"sort"
	"time"
)

// The subset of CycloneDX 1.5 (JSON) an SBOM of a Go binary needs.
type (
	bom struct {
		BOMFormat    string       `json:"bomFormat"`
		SpecVersion  string       `json:"specVersion"`
		Version      int          `json:"version"`
		Metadata     bomMetadata  `json:"metadata"`
		Components   []component  `json:"components"`
		Dependencies []dependency `json:"dependencies"`
	}
	bomMetadata struct {
		Timestamp  string     `json:"timestamp"`
		Component  component  `json:"component"`
		Properties []property `json:"properties,omitempty"`
	}
	component struct {
		Type       string     `json:"type"`
		BOMRef     string     `json:"bom-ref"`
		Name       string     `json:"name"`
		Version    string     `json:"version"`
		PURL       string     `json:"purl"`
		Properties []property `json:"properties,omitempty"`
	}
	property struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	dependency struct {
		Ref       string   `json:"ref"`
		DependsOn []string `json:"dependsOn"`
	}
)

// sbom describes the modules linked into the binary at bin, read from the
// build information the Go toolchain embeds: exactly what the binary for
// this platform contains, which `go list -m all` (every module of the graph,
// test-only ones included) would overstate. Replaced modules are listed as
// their replacement. The Go standard library is a component too.
func sbom(bin, version string, epoch time.Time, t Target) ([]byte, error) {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	main := goComponent("application", info.Main.Path, version, "")
	b := bom{BOMFormat: "CycloneDX", SpecVersion: "1.5", Version: 1,
		Metadata: bomMetadata{Timestamp: epoch.Format(time.RFC3339), Component: main, Properties: []property{
			{"custos:goos", t.OS}, {"custos:goarch", t.Arch}}}}
	std := goComponent("library", "stdlib", info.GoVersion, "")
	b.Components = append(b.Components, std)
	for _, d := range info.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		b.Components = append(b.Components, goComponent("library", d.Path, d.Version, d.Sum))
	}
	sort.Slice(b.Components, func(i, j int) bool { return b.Components[i].BOMRef < b.Components[j].BOMRef })
	refs := make([]string, len(b.Components))
	for i, c := range b.Components {
		refs[i] = c.BOMRef
		b.Dependencies = append(b.Dependencies, dependency{Ref: c.BOMRef, DependsOn: []string{}})
	}
	// The binary's build information lists what is linked, not who imports
	// whom: the application depends on every component.
	b.Dependencies = append([]dependency{{Ref: main.BOMRef, DependsOn: refs}}, b.Dependencies...)
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func goComponent(typ, path, version, sum string) component {
	purl := "pkg:golang/" + path + "@" + version
	c := component{Type: typ, BOMRef: purl, Name: path, Version: version, PURL: purl}
	if sum != "" {
		// The go.sum hash (h1:, a SHA-256 over the module's file list), which
		// is not a hash of any one file CycloneDX's hashes could name.
		c.Properties = []property{{"custos:go.sum", sum}}
	}
	return c
}
