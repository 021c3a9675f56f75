package evm

import (
	"fmt"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/custoskms/custos/internal/chain"
	"golang.org/x/crypto/sha3"
)

// xpubCache keeps recently parsed xpubs: a server derives thousands of deposit
// addresses from one xpub, and parsing costs as much as a child derivation. It
// is emptied when full rather than kept in LRU order: the working set of a KMS
// is a handful of xpubs.
var xpubCache = struct {
	sync.RWMutex
	m map[string]*chain.XPubKey
}{m: map[string]*chain.XPubKey{}}

const xpubCacheMax = 1024

func parseXPub(xpub string) (*chain.XPubKey, error) {
	xpubCache.RLock()
	p := xpubCache.m[xpub]
	xpubCache.RUnlock()
	if p != nil {
		return p, nil
	}
	p, err := chain.ParseXPub(xpub)
	if err != nil {
		return nil, fmt.Errorf("xpub: %w", err)
	}
	xpubCache.Lock()
	if len(xpubCache.m) >= xpubCacheMax {
		clear(xpubCache.m)
	}
	xpubCache.m[xpub] = p
	xpubCache.Unlock()
	return p, nil
}

// childAddress is BIP-32 public child derivation (CKDpub, non-hardened index)
// followed by the keccak address of the child point, hashed from the affine
// coordinates directly (no public key value in between).
func childAddress(p *chain.XPubKey, index uint32) ([20]byte, error) {
	child, err := p.ChildPoint(index)
	if err != nil {
		return [20]byte{}, err
	}
	return pointAddress(&child), nil
}

// pointAddress is the keccak address of an affine point (Z = 1, normalized).
func pointAddress(pt *btcec.JacobianPoint) [20]byte {
	var xy [64]byte
	pt.X.PutBytesUnchecked(xy[:32])
	pt.Y.PutBytesUnchecked(xy[32:])
	h := sha3.NewLegacyKeccak256()
	h.Write(xy[:])
	var sum [32]byte
	h.Sum(sum[:0])
	var out [20]byte
	copy(out[:], sum[12:])
	return out
}
