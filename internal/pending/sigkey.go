package pending

import (
	"cmp"
	"runtime"
	"slices"
	"sync"
)

// The pending index of both stores keys each signature ID of a pending
// transaction by SigKey: a 64-bit hash of tenant, chain and ID, so that a
// signer's list (up to a million IDs) travels to the database as integers and
// is matched against an integer index. A match by key is confirmed against
// the IDs themselves (ProbeSet.Matches), so a hash collision never returns a
// transaction whose IDs are not in the list.

// SigKey is the pending index key of a signature ID: FNV-1a 64 of tenant,
// chain and ID, NUL-separated. Stored keys depend on it: never change it.
func SigKey(tenant, chain, id string) int64 { return NewKeyHasher(tenant, chain).Key(id) }

const fnvOffset, fnvPrime = 14695981039346656037, 1099511628211

// KeyHasher computes SigKey for one tenant and chain, hashing their prefix once.
type KeyHasher uint64

// NewKeyHasher hashes the tenant and chain prefix of SigKey.
func NewKeyHasher(tenant, chain string) KeyHasher {
	h := uint64(fnvOffset)
	for _, part := range [...]string{tenant, "\x00", chain, "\x00"} {
		for i := 0; i < len(part); i++ {
			h ^= uint64(part[i])
			h *= fnvPrime
		}
	}
	return KeyHasher(h)
}

// Key is SigKey of id for the hasher's tenant and chain.
func (k KeyHasher) Key(id string) int64 {
	h := uint64(k)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= fnvPrime
	}
	return int64(h)
}

// probe is one signature ID of the query: its index key and its position in
// the query's list.
type probe struct {
	k int64
	i int32
}

// ProbeSet is a query's signature IDs sorted by index key.
type ProbeSet struct {
	hasher KeyHasher
	ids    []string
	probes []probe // sorted by k; equal keys are adjacent
	// slots finds a key in one step where a binary search of a long list
	// took twenty scattered reads, for every stored row a query confirms:
	// open addressing on the key (a hash already).
	slots []slot
	bits  uint
}

// slot is one entry of ProbeSet.slots: a key and the ID of its first probe.
// A query confirms each stored row it reads (Has) and the index asks
// each of its keys (HasKey), hundreds of thousands of look-ups scattered
// over a table of megabytes: with the key and the ID in the slot, a look-up
// reads the slot and the ID's bytes, not also a probe and an ID's string
// header, each a cache miss of its own.
type slot struct {
	k int64
	// id is the first probe's ID, "" for an empty slot; an empty ID of
	// the query is kept as "\x00", which Has then finds among the probes.
	id string
}

// parallelHashFrom is the list length from which NewProbeSet hashes on
// every core; below it one goroutine is cheaper than starting others.
const parallelHashFrom = 1 << 15

// NewProbeSet hashes and sorts a query's IDs; ids is kept, not copied.
func NewProbeSet(tenant, chain string, ids []string) *ProbeSet {
	ps := &ProbeSet{hasher: NewKeyHasher(tenant, chain), ids: ids, probes: make([]probe, len(ids))}
	// A long list (a signer's whole wallet) is hashed on every core: this
	// runs before the query's rows are read, with nothing else to do.
	parts := 1
	if len(ids) >= parallelHashFrom {
		parts = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(ids)/parts, (p+1)*len(ids)/parts
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				ps.probes[i] = probe{k: ps.hasher.Key(ids[i]), i: int32(i)}
			}
		})
	}
	wg.Wait()
	radixSort(ps.probes)
	ps.indexKeys()
	return ps
}

// indexKeys fills slots with the first probe of each key, at most half full.
func (ps *ProbeSet) indexKeys() {
	ps.bits = 1
	for 1<<ps.bits < 2*len(ps.probes) {
		ps.bits++
	}
	ps.slots = make([]slot, 1<<ps.bits)
	mask := len(ps.slots) - 1
	for j, p := range ps.probes {
		if j > 0 && p.k == ps.probes[j-1].k {
			continue
		}
		i := ps.slot(p.k)
		for ps.slots[i].id != "" {
			i = (i + 1) & mask
		}
		id := ps.ids[p.i]
		if id == "" {
			id = "\x00"
		}
		ps.slots[i] = slot{k: p.k, id: id}
	}
}

// slot is k's first slot: its top bits after a multiplication that spreads
// every bit of k into them.
func (ps *ProbeSet) slot(k int64) int {
	return int((uint64(k) * 0x9e3779b97f4a7c15) >> (64 - ps.bits))
}

// find is the slot of key k, nil when no probe has it.
func (ps *ProbeSet) find(k int64) *slot {
	mask := len(ps.slots) - 1
	for i := ps.slot(k); ; i = (i + 1) & mask {
		e := &ps.slots[i]
		if e.id == "" {
			return nil
		}
		if e.k == k {
			return e
		}
	}
}

// radixSort orders probes by k as signed integers (the index order), in
// eight stable byte passes: linear where a comparison sort of a million
// keys is not.
func radixSort(p []probe) {
	if len(p) < 2 {
		return
	}
	buf := make([]probe, len(p))
	src, dst := p, buf
	for shift := uint(0); shift < 64; shift += 8 {
		var count [257]int
		for _, x := range src {
			count[int(byte((uint64(x.k)^1<<63)>>shift))+1]++
		}
		if count[int(byte((uint64(src[0].k)^1<<63)>>shift))+1] == len(src) {
			continue // every key has the same byte here
		}
		for b := 1; b < 257; b++ {
			count[b] += count[b-1]
		}
		for _, x := range src {
			b := byte((uint64(x.k) ^ 1<<63) >> shift)
			dst[count[b]] = x
			count[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &p[0] {
		copy(p, src)
	}
}

// Has reports whether id is one of the query's IDs (not merely one whose key
// collides with one of theirs).
func (ps *ProbeSet) Has(id string) bool {
	k := ps.hasher.Key(id)
	e := ps.find(k)
	if e == nil {
		return false
	}
	if e.id == id {
		return true
	}
	// Another ID with the same key (a collision) is among the probes with
	// that key, adjacent in their order.
	j, _ := slices.BinarySearchFunc(ps.probes, k, func(p probe, k int64) int { return cmp.Compare(p.k, k) })
	for ; j < len(ps.probes) && ps.probes[j].k == k; j++ {
		if ps.ids[ps.probes[j].i] == id {
			return true
		}
	}
	return false
}

// Matches reports whether one of t's signature IDs is in the query's list.
func (ps *ProbeSet) Matches(t *Tx) bool {
	for _, h := range t.Hashes {
		if ps.Has(h) {
			return true
		}
	}
	for _, sg := range t.Signatures {
		if ps.Has(sg.ID) {
			return true
		}
	}
	return false
}

// DistinctKeys are the sorted keys with duplicates (the same ID twice, or a
// collision) removed.
func (ps *ProbeSet) DistinctKeys() []int64 {
	keys := make([]int64, 0, len(ps.probes))
	for j, p := range ps.probes {
		if j == 0 || p.k != ps.probes[j-1].k {
			keys = append(keys, p.k)
		}
	}
	return keys
}

// HasKey reports whether k is the key of one of the query's IDs.
func (ps *ProbeSet) HasKey(k int64) bool { return ps.find(k) != nil }
