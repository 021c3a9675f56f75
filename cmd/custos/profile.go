package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/custoskms/custos/internal/config"
)

// profileFlags is --cpuprofile, which serve, daemon and approver serve
// share: a whole process's CPU profile, start-up included, for finding where
// an operator's run spends its time (bench/process passes it).
type profileFlags struct {
	cpu string
}

func (f *profileFlags) add(b *config.Binder) {
	config.String(b, &f.cpu, config.Setting[string]{Flag: "cpuprofile",
		Help: "write a CPU profile (pprof format) of the whole run to this file, closed when the process stops"})
}

// start starts the profile when one is asked for; stop writes it out.
func (f profileFlags) start() (stop func(), err error) {
	if f.cpu == "" {
		return func() {}, nil
	}
	out, err := os.OpenFile(f.cpu, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		out.Close()
	}, nil
}
