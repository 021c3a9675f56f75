package walletstore

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
)

// TestKDFMemoryIsReturned: once a store is open, the KDF's memory is neither
// in use nor held idle by the process (it went back to the OS), so that a
// daemon's later garbage does not pile on top of it.
func TestKDFMemoryIsReturned(t *testing.T) {
	const kdfMiB = 48
	p := KDFParams{Time: 1, MemoryKiB: kdfMiB << 10, Threads: 1}
	old := TestKDF
	TestKDF = &p
	t.Cleanup(func() { TestKDF = old })
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "wallet.dat"), []byte(testPassword), Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	held := ms.HeapInuse + ms.HeapIdle - ms.HeapReleased
	if held > kdfMiB/2<<20 {
		t.Fatalf("the process holds %d MiB of heap after a %d MiB KDF", held>>20, kdfMiB)
	}
}
