//go:build unix && !linux

package harden

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Process turns off core dumps (there is no dumpable flag outside Linux).
func Process() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return fmt.Errorf("RLIMIT_CORE 0: %w", err)
	}
	return nil
}

// Dumpable is only known on Linux.
func Dumpable() (bool, error) { return false, ErrUnsupported }
