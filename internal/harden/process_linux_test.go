package harden

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestProcess turns the test process itself not dumpable (harmless for the
// rest of the package's tests) and reads the flag back twice: through prctl
// and, where the kernel reports it, in /proc/self/status.
func TestProcess(t *testing.T) {
	if d, err := Dumpable(); err != nil || !d {
		t.Fatalf("before: dumpable=%v %v (a test process starts dumpable)", d, err)
	}
	if err := Process(); err != nil {
		t.Fatal(err)
	}
	if d, err := Dumpable(); err != nil || d {
		t.Fatalf("prctl: dumpable=%v %v", d, err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	// Not every kernel prints the flag there; where it does, it must agree.
	if strings.Contains(string(status), "\nDumpable:") && !strings.Contains(string(status), "\nDumpable:\t0\n") {
		t.Fatalf("/proc/self/status does not say Dumpable 0:\n%s", status)
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &rl); err != nil || rl.Cur != 0 || rl.Max != 0 {
		t.Fatalf("RLIMIT_CORE %+v %v", rl, err)
	}
}
