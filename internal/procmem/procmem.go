// Package procmem lowers what a process holds resident at its peak, the
// pages of its own executable that start-up touched and that it no longer
// needs, and what a large block costs to fault in (PrepareHuge).
//
// A Go binary runs every linked package's initialiser before main, and each
// one faults in the code, tables and function metadata around it. The kernel
// maps file pages in 64 KiB windows (fault-around), so a few hundred
// initialisers spread over a 90 MB binary leave about 40 MB of it resident,
// most of which is never used again. Those pages are clean copies of the
// file: dropping the process's mappings of them costs nothing but a minor
// fault for each window that is used again, served from the page cache.
package procmem

import (
	"errors"
	"runtime/metrics"
	"time"
)

// ErrUnsupported is returned where the process's mappings cannot be read.
var ErrUnsupported = errors.New("not supported on this platform")

// During runs f, a large allocation followed by long work (a memory-hard
// KDF), with the executable's pages released before it and once more after
// the first garbage collection that ends while f runs: the allocation starts
// one, and a collection reads the type and stack metadata of everything live,
// faulting several MB of the binary back in while f's memory is at its
// largest. Releasing is best effort: it lowers a peak, nothing depends on it.
func During(f func()) {
	_ = ReleaseExecutable()
	cycles := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(cycles)
	start := cycles[0].Value.Uint64()
	done := make(chan struct{})
	defer close(done)
	go func() {
		// Polled: the runtime signals no end of a collection. A millisecond
		// is short beside the KDF (about half a second).
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(cycles)
			if cycles[0].Value.Uint64() != start {
				_ = ReleaseExecutable()
				return
			}
		}
	}()
	f()
}
