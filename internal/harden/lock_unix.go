//go:build unix

package harden

import "golang.org/x/sys/unix"

// Lock keeps the pages holding b in RAM (mlock), so the key bytes there are
// never written to swap. It fails where RLIMIT_MEMLOCK or the platform
// refuses; callers go on without it and say so once.
func Lock(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return unix.Mlock(b)
}

// Unlock undoes Lock; b is wiped by the caller first.
func Unlock(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return unix.Munlock(b)
}
