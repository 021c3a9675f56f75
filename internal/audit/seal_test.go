package audit

import (
	"testing"
)

// daemonEntry is shaped as the daemon's per-transaction entries: a
// decision on a transaction, named by its id, chain, digest, wallets and
// derivation indexes.
func daemonEntry(seq uint64) Entry {
	return Entry{Seq: seq, Time: "2026-12-05T04:00:00.123456789Z", Actor: "daemon", User: "custos", PID: 4242, Event: "tx.decision",
		Fields: map[string]any{"id": "65f1c0de0000000000000001", "chain": "ETH", "signatureIds": []string{"5e7a2f4c-6a1b-4d2e-9c3f-8b1a2d3e4f50"},
			"digest": "0f3c9d6e2b1a4f5e8d7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b4a39281706", "indexes": []uint32{17},
			"step": "approval", "decision": "approved"},
		Prev: Genesis}
}

// BenchmarkSeal is one entry's hashing and line, as each commit does for
// every event it writes.
func BenchmarkSeal(b *testing.B) {
	e := daemonEntry(1)
	b.ReportAllocs()
	for range b.N {
		if _, err := e.seal(); err != nil {
			b.Fatal(err)
		}
	}
}
