package chaintest

import (
	"sync"
	"testing"
)

// XPubAddresses checks that addr, the addresses of one parsed xpub, gives
// want(i) for the indexes below n, asked from four goroutines at once, and
// refuses a hardened index.
func XPubAddresses(t *testing.T, name string, n uint32, addr, want func(index uint32) (string, error)) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range uint32(4) {
		wg.Go(func() {
			for i := g; i < n; i += 4 {
				w, err := want(i)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := addr(i); err != nil || got != w {
					t.Errorf("%s index %d: %q %v, want %q", name, i, got, err, w)
				}
			}
		})
	}
	wg.Wait()
	if _, err := addr(1 << 31); err == nil {
		t.Errorf("%s: a hardened index was accepted", name)
	}
}
