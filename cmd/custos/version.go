package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/config"
)

// The stamped* values are set by the release build (internal/release, with
// -ldflags "-X main.stampedVersion=…"): the version is a release tag the
// module graph cannot know, the commit is stamped because the toolchain's
// own VCS stamp is missing in some checkouts, and the date is the commit's
// time so that two builds of one commit are byte for byte the same. The
// linker writes them; nothing assigns them at run time.
var (
	stampedVersion string
	stampedCommit  string
	stampedDate    string
)

// buildInfo is what `custos version` reports.
type buildInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Date     string `json:"date,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// readBuildInfo combines the release stamp with what the Go toolchain
// recorded: the module version (go install …@vX), and the commit, its time
// and whether the tree had changes when built from a checkout.
func readBuildInfo() buildInfo {
	v := buildInfo{Version: "devel", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.time":
				v.Date = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if stampedVersion != "" {
		v.Version = stampedVersion
	}
	if stampedCommit != "" {
		v.Commit = stampedCommit
	}
	if stampedDate != "" {
		v.Date = stampedDate
	}
	return v
}

func newVersionCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the build's version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := readBuildInfo()
			if asJSON {
				return printJSON(a.stdout, v)
			}
			commit := v.Commit
			if commit == "" {
				commit = "unknown"
			} else if v.Modified {
				commit += " (modified)"
			}
			date := v.Date
			if date == "" {
				date = "unknown"
			}
			_, err := fmt.Fprintf(a.stdout, "custos %s\ncommit %s\nbuilt  %s\ngo     %s %s\n", v.Version, commit, date, v.Go, v.Platform)
			return err
		},
	}
	config.Bool(a.flags(cmd), &asJSON, config.Setting[bool]{Flag: "json", Help: "print as JSON"})
	return cmd
}
