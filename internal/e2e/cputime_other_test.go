//go:build !unix

package e2e

import (
	"testing"
	"time"
)

// cpuTime is not measured here; the CPU metrics of the benchmark read 0.
func cpuTime(testing.TB) time.Duration { return 0 }
