package pending

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// sigKeyReference is FNV-1a 64 of tenant, chain and ID written out in full,
// the definition the stored index keys were made with.
func sigKeyReference(tenant, chain, id string) int64 {
	h := uint64(14695981039346656037)
	for _, b := range []byte(tenant + "\x00" + chain + "\x00" + id) {
		h ^= uint64(b)
		h *= 1099511628211
	}
	return int64(h)
}

func TestKeyerIsSigKey(t *testing.T) {
	k := NewKeyHasher("65f1c0de0000000000000001", "ETH")
	for i := range 1000 {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i*7919)
		if got, want := k.Key(id), sigKeyReference("65f1c0de0000000000000001", "ETH", id); got != want || SigKey("65f1c0de0000000000000001", "ETH", id) != want {
			t.Fatalf("key of %s = %d, want %d", id, got, want)
		}
	}
}

func TestRadixSortOrdersSignedKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 7, 1000, 70_000} {
		p := make([]probe, n)
		for i := range p {
			p[i] = probe{k: int64(rng.Uint64()), i: int32(i)}
			if i%5 == 0 && i > 0 {
				p[i].k = p[i-1].k // duplicates keep their input order
			}
		}
		if n > 3 {
			p[0].k, p[1].k, p[2].k = math.MinInt64, math.MaxInt64, 0
		}
		want := slices.Clone(p)
		slices.SortStableFunc(want, func(a, b probe) int { return cmpInt64(a.k, b.k) })
		radixSort(p)
		if !slices.Equal(p, want) {
			t.Fatalf("n=%d: radix order differs from a stable sort", n)
		}
	}
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// A hash collision in the pending index must not return a transaction whose
// IDs are not in the list.
func TestMatchesFiltersKeyCollisions(t *testing.T) {
	ps := NewProbeSet("t", "ETH", []string{"wanted"})
	// Pretend "other" hashed to the same key as "wanted".
	ps.probes[0].k = SigKey("t", "ETH", "other")
	ps.indexKeys()
	if ps.Matches(&Tx{Hashes: []string{"other"}}) {
		t.Fatal("collision was taken for a match")
	}
	ps = NewProbeSet("t", "ETH", []string{"x", "wanted", "y"})
	if !ps.Matches(&Tx{Hashes: []string{"z"}, Signatures: []Signature{{ID: "wanted"}}}) {
		t.Fatal("a real match was dropped")
	}
	if SigKey("t", "ETH", "a") == SigKey("t", "BTC", "a") || SigKey("t1", "ETH", "a") == SigKey("t", "ETH", "a") {
		t.Fatal("keys do not separate tenants and chains")
	}
}

// Has and HasKey answer for every ID and key of the list, duplicates and
// shared keys included, and for nothing else.
func TestProbeSetHasEveryID(t *testing.T) {
	for _, n := range []int{1, 2, 3, 100, 5000} {
		ids := make([]string, 0, n)
		for i := range n {
			ids = append(ids, fmt.Sprintf("id-%d", i%(n/2+1))) // every ID twice
		}
		ps := NewProbeSet("t", "ETH", ids)
		// Two IDs under one key, as a collision would put them.
		if n > 2 {
			ps.probes[1].k = ps.probes[0].k
			slices.SortStableFunc(ps.probes, func(a, b probe) int { return cmpInt64(a.k, b.k) })
			ps.indexKeys()
		}
		for _, p := range ps.probes {
			if !ps.Has(ids[p.i]) || !ps.HasKey(p.k) {
				t.Fatalf("n=%d: %s (key %d) not found", n, ids[p.i], p.k)
			}
		}
		for i := range 2 * n {
			if id := fmt.Sprintf("other-%d", i); ps.Has(id) || ps.HasKey(SigKey("t", "ETH", id)) {
				t.Fatalf("n=%d: %s found", n, id)
			}
		}
	}
}

// A list long enough to be hashed on several goroutines gets every ID's key,
// each once, in index order.
func TestProbeSetLongListKeys(t *testing.T) {
	n := 2*parallelHashFrom + 3
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("id-%d", i)
	}
	ps := NewProbeSet("t", "ETH", ids)
	seen := make([]bool, n)
	for j, p := range ps.probes {
		if p.k != SigKey("t", "ETH", ids[p.i]) || seen[p.i] {
			t.Fatalf("probe %d: key %d for %s (seen before: %v)", j, p.k, ids[p.i], seen[p.i])
		}
		seen[p.i] = true
		if j > 0 && ps.probes[j-1].k > p.k {
			t.Fatalf("probe %d out of order", j)
		}
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("%s has no probe", ids[i])
		}
	}
}

// Two different IDs under one key (a collision) are both found: the slot
// keeps the first, the other is found among the probes that follow it.
func TestProbeSetHasCollidingIDs(t *testing.T) {
	ps := NewProbeSet("t", "ETH", []string{"second", "first", "third"})
	// "second" is given the key of "first", and sorted before it.
	k := ps.hasher.Key("first")
	for i := range ps.probes {
		if ps.ids[ps.probes[i].i] == "second" {
			ps.probes[i].k = k
		}
	}
	slices.SortFunc(ps.probes, func(a, b probe) int {
		if c := cmpInt64(a.k, b.k); c != 0 {
			return c
		}
		return int(a.i - b.i)
	})
	ps.indexKeys()
	if !ps.Has("first") || !ps.Has("third") {
		t.Fatal("an ID of the list was not found")
	}
	if ps.Has("second") || ps.Has("fourth") {
		t.Fatal("an ID was found under a key that is not its own")
	}
}

// An empty ID in the list (the API refuses one; the store takes any list)
// is found like any other.
func TestProbeSetHasEmptyID(t *testing.T) {
	ps := NewProbeSet("t", "ETH", []string{"a", "", "b"})
	for _, id := range []string{"a", "", "b"} {
		if !ps.Has(id) || !ps.HasKey(ps.hasher.Key(id)) {
			t.Fatalf("%q not found", id)
		}
	}
	if ps.Has("\x00") || ps.Has("c") {
		t.Fatal("an ID not in the list was found")
	}
}
