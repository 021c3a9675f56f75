package main

import (
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the build's version as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := map[string]string{"version": "devel"}
			if bi, ok := debug.ReadBuildInfo(); ok {
				if bi.Main.Version != "" {
					v["version"] = bi.Main.Version
				}
				v["go"] = bi.GoVersion
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						v["revision"] = s.Value
					}
				}
			}
			return printJSON(a.stdout, v)
		},
	}
}
