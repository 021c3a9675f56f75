// Command release builds Custos's release artifacts into a directory:
// archives for every platform, their CycloneDX SBOMs and SHA256SUMS.
//
//	go run ./scripts/release -out dist
//
// Run it from a clean checkout of the commit to release; internal/release
// says what makes the output reproducible.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/custoskms/custos/internal/release"
)

func main() {
	out := flag.String("out", "dist", "directory for the artifacts")
	version := flag.String("version", "", "version to stamp (default: git describe --tags --always --dirty)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := release.Build(ctx, release.Options{Dir: ".", Out: *out, Version: *version})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("custos %s (commit %s, dated %s) in %s\n", res.Version, res.Commit, res.Epoch.Format("2006-01-02T15:04:05Z"), *out)
	for _, a := range res.Artifacts {
		fmt.Printf("%s  %s\n", a.SHA256, a.Name)
	}
}
