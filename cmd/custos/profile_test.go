package main

import (
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"
)

func TestCPUProfileIsWrittenWhenStopped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	stop, err := profileFlags{cpu: path}.start()
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("profile file: %v %v", fi, err)
	}
	// The profiler is free again: a second profile can start.
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Fatalf("profiler still held: %v", err)
	}
	pprof.StopCPUProfile()

	noop, err := profileFlags{}.start()
	if err != nil {
		t.Fatal(err)
	}
	noop()
	if _, err := (profileFlags{cpu: filepath.Join(t.TempDir(), "missing", "cpu.pprof")}).start(); err == nil {
		t.Fatal("an unwritable profile path was accepted")
	}
}
