//go:build linux

package harden

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Process turns off core dumps and marks the process not dumpable: no core
// file holds the keys after a crash, and another process of the same user
// can neither ptrace it nor read its /proc/PID/mem or /proc/PID/environ
// (they become owned by root).
func Process() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return fmt.Errorf("RLIMIT_CORE 0: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("PR_SET_DUMPABLE 0: %w", err)
	}
	return nil
}

// Dumpable reports the process's dumpable flag (PR_GET_DUMPABLE).
func Dumpable() (bool, error) {
	v, _, errno := unix.Syscall(unix.SYS_PRCTL, unix.PR_GET_DUMPABLE, 0, 0)
	if errno != 0 {
		return false, errno
	}
	return v != 0, nil
}
