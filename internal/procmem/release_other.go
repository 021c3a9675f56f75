//go:build !linux

package procmem

// ReleaseExecutable does nothing here: the process's mappings are read from
// Linux's /proc.
func ReleaseExecutable() error { return nil }

// ExecutableResident is not known here.
func ExecutableResident() (int64, error) { return 0, ErrUnsupported }

// PrepareHuge does nothing here: transparent huge pages are Linux's.
func PrepareHuge(int) (undo func()) { return func() {} }
