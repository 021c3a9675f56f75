package evm

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"golang.org/x/crypto/sha3"
)

// parent is an xpub parsed once: its chain code, compressed key (the HMAC
// input of every child) and the decompressed point. hdkeychain re-parses the
// xpub and decompresses two points per child, which is most of the cost when a
// server derives thousands of deposit addresses from one xpub.
type parent struct {
	chainCode  []byte
	compressed []byte
	point      btcec.JacobianPoint
}

// xpubCache keeps recently parsed xpubs. It is emptied when full rather than
// kept in LRU order: the working set of a KMS is a handful of xpubs.
var xpubCache = struct {
	sync.RWMutex
	m map[string]*parent
}{m: map[string]*parent{}}

const xpubCacheMax = 1024

func parseXPub(xpub string) (*parent, error) {
	xpubCache.RLock()
	p := xpubCache.m[xpub]
	xpubCache.RUnlock()
	if p != nil {
		return p, nil
	}
	k, err := hdkeychain.NewKeyFromString(xpub)
	if err != nil {
		return nil, fmt.Errorf("xpub: %w", err)
	}
	if k.IsPrivate() {
		// An xprv would derive too, but it is a secret pasted where a public key belongs.
		return nil, fmt.Errorf("xpub: got an extended private key, want an extended public key")
	}
	pub, err := k.ECPubKey()
	if err != nil {
		return nil, fmt.Errorf("xpub: %w", err)
	}
	p = &parent{chainCode: k.ChainCode(), compressed: pub.SerializeCompressed()}
	pub.AsJacobian(&p.point)
	xpubCache.Lock()
	if len(xpubCache.m) >= xpubCacheMax {
		clear(xpubCache.m)
	}
	xpubCache.m[xpub] = p
	xpubCache.Unlock()
	return p, nil
}

// childAddress is BIP-32 public child derivation (CKDpub, non-hardened index)
// followed by the keccak address of the child point.
func (p *parent) childAddress(index uint32) ([20]byte, error) {
	var out [20]byte
	var data [37]byte
	copy(data[:33], p.compressed)
	binary.BigEndian.PutUint32(data[33:], index)
	mac := hmac.New(sha512.New, p.chainCode)
	mac.Write(data[:])
	il := mac.Sum(nil)[:32]
	var s btcec.ModNScalar
	if overflow := s.SetByteSlice(il); overflow {
		return out, fmt.Errorf("xpub derive: index %d gives an invalid key, use the next index", index)
	}
	var child btcec.JacobianPoint
	btcec.ScalarBaseMultNonConst(&s, &child)
	btcec.AddNonConst(&child, &p.point, &child)
	if (child.X.IsZero() && child.Y.IsZero()) || child.Z.IsZero() {
		return out, fmt.Errorf("xpub derive: index %d gives an invalid key, use the next index", index)
	}
	child.ToAffine()
	var xy [64]byte
	child.X.PutBytesUnchecked(xy[:32])
	child.Y.PutBytesUnchecked(xy[32:])
	h := sha3.NewLegacyKeccak256()
	h.Write(xy[:])
	var sum [32]byte
	h.Sum(sum[:0])
	copy(out[:], sum[12:])
	return out, nil
}
