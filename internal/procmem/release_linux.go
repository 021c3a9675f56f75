//go:build linux

package procmem

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ReleaseExecutable drops this process's resident pages of its executable's
// read-only mappings (code, read-only data, function tables). A mapping
// holding a private copy of a page (a debugger's breakpoint or an uprobe
// writes one) is left alone, as dropping the copy would lose it; the writable
// data segment is never touched. Pages used again fault back in from the page
// cache.
func ReleaseExecutable() error {
	ms, err := executableMappings()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.anonKiB != 0 {
			continue
		}
		// The raw call: these addresses are the binary's, not Go memory.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED); errno != 0 {
			return fmt.Errorf("madvise %x-%x: %w", m.start, m.end, errno)
		}
	}
	return nil
}

// ExecutableResident is how much of the executable's read-only mappings is
// resident in this process, in bytes.
func ExecutableResident() (int64, error) {
	ms, err := executableMappings()
	if err != nil {
		return 0, err
	}
	var kib int64
	for _, m := range ms {
		kib += m.rssKiB
	}
	return kib << 10, nil
}

func executableMappings() ([]mapping, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	return readOnlyMappings(smaps, exe), nil
}

// mapping is one address range of /proc/self/smaps, with its resident and
// anonymous (copied-on-write) sizes.
type mapping struct {
	start, end      uintptr
	rssKiB, anonKiB int64
}

// readOnlyMappings returns the private, not writable mappings of path in
// smaps. A path with spaces (or " (deleted)" after the binary was replaced)
// does not match: nothing is found then.
func readOnlyMappings(smaps []byte, path string) []mapping {
	var out []mapping
	in := false
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) == 0 {
			continue
		}
		if start, end, isHeader := parseRange(f[0]); isHeader {
			// address perms offset dev inode [path]
			perms := f[1]
			in = len(f) == 6 && string(f[5]) == path && len(perms) == 4 &&
				perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p'
			if in {
				out = append(out, mapping{start: start, end: end})
			}
			continue
		}
		if !in || len(f) < 2 {
			continue
		}
		n, err := strconv.ParseInt(string(f[1]), 10, 64)
		if err != nil {
			continue
		}
		switch string(f[0]) {
		case "Rss:":
			out[len(out)-1].rssKiB = n
		case "Anonymous:":
			out[len(out)-1].anonKiB = n
		}
	}
	return out
}

// parseRange reads a mapping header's "start-end" field; a field line
// ("Rss:") is not one.
func parseRange(b []byte) (start, end uintptr, ok bool) {
	lo, hi, found := bytes.Cut(b, []byte("-"))
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(string(lo), 16, 64)
	e, err2 := strconv.ParseUint(string(hi), 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, false
	}
	return uintptr(s), uintptr(e), true
}
