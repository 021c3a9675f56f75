//go:build linux

package procmem

import (
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
)

// hugeBlock is the block the test allocates: the wallet store's KDF memory.
const hugeBlock = 64 << 20

// faultsOfBlock runs in a fresh process (the test binary again): it
// allocates a block as the KDF does and writes every page of it, with or
// without PrepareHuge first, and returns the page faults each step took.
func faultsOfBlock(prepare bool) (preparing, block int64) {
	debug.FreeOSMemory()
	undo := func() {}
	if prepare {
		preparing = faults(func() { undo = PrepareHuge(hugeBlock) })
	}
	block = faults(func() {
		b := make([]byte, hugeBlock)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
	})
	undo()
	return preparing, block
}

// faults is how many page faults f takes.
func faults(f func()) int64 {
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	f()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	return after.Minflt - before.Minflt
}

func TestMain(m *testing.M) {
	switch mode := os.Getenv("PROCMEM_FAULTS"); mode {
	case "":
		os.Exit(m.Run())
	case "twice":
		// A second KDF in the process: the first one's range, returned to
		// the system, is prepared again, and not written by it.
		faultsOfBlock(true)
		fmt.Println(faultsOfBlock(true))
	default:
		fmt.Println(faultsOfBlock(mode == "prepared"))
	}
	os.Exit(0)
}

func faultsInChild(t *testing.T, mode string) (preparing, block int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROCMEM_FAULTS="+mode)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %s: %v", mode, err)
	}
	if _, err := fmt.Sscan(string(out), &preparing, &block); err != nil {
		t.Fatalf("child %s printed %q", mode, out)
	}
	return preparing, block
}

// TestPrepareHugeCutsFaults: where the system grants huge pages on request,
// a 64 MiB block allocated after PrepareHuge is faulted in with a small
// fraction of the 16,384 faults it takes without, and PrepareHuge itself
// writes nothing, also for a second block in one process.
func TestPrepareHugeCutsFaults(t *testing.T) {
	mode, err := os.ReadFile(thpSetting)
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("transparent huge pages are off on this system (%q)", strings.TrimSpace(string(mode)))
	}
	const pages = hugeBlock / 4096
	_, plain := faultsInChild(t, "plain")
	if strings.Contains(string(mode), "[madvise]") && plain < pages*9/10 {
		// With "always" every block gets huge pages: there is no control.
		t.Fatalf("without PrepareHuge the block took %d faults, not about one per 4 KiB page: the control does not hold", plain)
	}
	for _, m := range []string{"prepared", "twice"} {
		preparing, block := faultsInChild(t, m)
		t.Logf("%s: %d faults preparing, %d for the %d MiB block (%d without PrepareHuge)", m, preparing, block, hugeBlock>>20, plain)
		if preparing > pages/16 || block > pages/8 {
			t.Errorf("%s: %d faults preparing and %d for the block; a 4 KiB page each would be %d", m, preparing, block, pages)
		}
	}
}
