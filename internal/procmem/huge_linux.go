//go:build linux

package procmem

import (
	"bytes"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of a transparent huge page with 4 KiB base pages.
const hugePage = 2 << 20

// maxPrepared is the largest block PrepareHuge prepares. A larger one (a
// KDF's memory raised by the operator) is left as it was: twice it mapped at
// once, on top of the block, could press a strict commit limit
// (vm.overcommit_memory 2).
const maxPrepared = 1 << 30

// thpSetting is the system's transparent huge page mode.
const thpSetting = "/sys/kernel/mm/transparent_hugepage/enabled"

// PrepareHuge readies the address range that the next allocation of n bytes
// will take to be backed by transparent huge pages, on a system that grants
// them on request (transparent_hugepage "madvise", the common default): a
// freshly allocated block is then faulted in 2 MiB at a time instead of
// 4 KiB. On a virtual machine each fault of a fresh page costs several
// microseconds, so a 64 MiB block written at once (a memory-hard KDF) can
// spend more time in its 16,384 faults than in its own work.
//
// It allocates twice n bytes, which the runtime takes from fresh address
// space, or from memory it returned to the system (a second KDF in one
// process), without writing them, advises their huge-page-aligned part, and
// collects them at once. Go's page allocator hands out the lowest free range
// that fits, so the next allocation of n bytes lands in that range. Twice n,
// because the runtime's own small allocations in between can take pages at
// the start of the range (seen in 4 of 80 tries with n alone). Nothing
// depends on it: an allocation placed elsewhere is faulted in as before, and
// the advised range holds no memory until something is placed there.
//
// The returned func takes the advice back (MADV_NOHUGEPAGE, which in
// "madvise" mode is the default behaviour). Left advised, the range would
// let the kernel's khugepaged fill every 2 MiB of it that the heap later uses
// even sparsely with a whole huge page. Huge pages already faulted in stay
// until the runtime returns them.
func PrepareHuge(n int) (undo func()) {
	undo = func() {}
	if n < 2*hugePage || n > maxPrepared {
		return undo
	}
	if mode, err := os.ReadFile(thpSetting); err != nil || !bytes.Contains(mode, []byte("[madvise]")) {
		// "always" backs the block with huge pages anyway, "never" not at
		// all.
		return undo
	}
	b := make([]byte, 2*n)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	beg := (start + hugePage - 1) &^ (hugePage - 1)
	end := (start + uintptr(len(b))) &^ (hugePage - 1)
	if unix.Madvise(b[beg-start:end-start], unix.MADV_HUGEPAGE) != nil {
		return undo // a kernel without transparent huge pages
	}
	runtime.KeepAlive(b)
	b = nil
	runtime.GC()
	return func() {
		// The raw call: the range is the heap's, no longer a Go value here.
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, beg, end-beg, unix.MADV_NOHUGEPAGE)
	}
}
