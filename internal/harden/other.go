//go:build !unix

package harden

// Process has nothing to turn off here: Windows writes no core files unless
// the system is configured for crash dumps.
func Process() error { return nil }

// Dumpable is only known on Linux.
func Dumpable() (bool, error) { return false, ErrUnsupported }

// Lock is not available here.
func Lock(b []byte) error { return ErrUnsupported }

// Unlock is not available here.
func Unlock(b []byte) error { return nil }
