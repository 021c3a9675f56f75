package chain

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
)

// XPubKey is an extended public key parsed once for public child derivation:
// its point is kept decompressed, so each child costs one HMAC, one base-point
// multiplication and one inversion, not the re-parse and two square roots of
// hdkeychain's Derive followed by ECPubKey. Callers that derive many indices
// of one xpub (address batches, deposit scanning) keep it in their own cache.
type XPubKey struct {
	version   []byte
	chainCode []byte
	pubBytes  [33]byte // compressed, as it appears in the HMAC input
	point     btcec.JacobianPoint
	// macs holds HMAC-SHA512 instances keyed with the chain code. After its
	// first Reset an HMAC restarts from the saved states of its padded key
	// blocks, so each child costs two SHA-512 compressions instead of four
	// and no allocation.
	macs sync.Pool
}

// ParseXPub parses a serialized extended public key. An extended private key
// is refused, and the error never quotes the input.
func ParseXPub(xpub string) (*XPubKey, error) {
	k, err := hdkeychain.NewKeyFromString(xpub)
	if err != nil {
		return nil, err
	}
	if k.IsPrivate() {
		// A secret in the wrong place: refuse it, never echo it.
		return nil, errors.New("an extended private key was given")
	}
	pub, err := k.ECPubKey()
	if err != nil {
		return nil, err
	}
	p := &XPubKey{version: k.Version(), chainCode: k.ChainCode()}
	copy(p.pubBytes[:], pub.SerializeCompressed())
	pub.AsJacobian(&p.point)
	p.macs.New = func() any { return hmac.New(sha512.New, p.chainCode) }
	return p, nil
}

// Version is the key's four version bytes (xpub, tpub, Ltub…).
func (p *XPubKey) Version() []byte { return p.version }

// ChildPoint is BIP-32 CKDpub at a non-hardened index: the child public key as
// an affine point (Z = 1). An invalid child (probability ~2^-127) wraps
// hdkeychain.ErrInvalidChild; BIP-32 says to use the next index.
func (p *XPubKey) ChildPoint(index uint32) (btcec.JacobianPoint, error) {
	var child btcec.JacobianPoint
	if index >= Hardened {
		return child, fmt.Errorf("xpub child %d: %w", index, hdkeychain.ErrDeriveHardFromPublic)
	}
	var data [37]byte
	copy(data[:33], p.pubBytes[:])
	binary.BigEndian.PutUint32(data[33:], index)
	mac := p.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write(data[:])
	var sum [sha512.Size]byte
	mac.Sum(sum[:0])
	p.macs.Put(mac)
	var k btcec.ModNScalar
	if overflow := k.SetByteSlice(sum[:32]); overflow {
		return child, fmt.Errorf("xpub child %d: %w", index, hdkeychain.ErrInvalidChild)
	}
	btcec.ScalarBaseMultNonConst(&k, &child)
	btcec.AddNonConst(&child, &p.point, &child)
	if (child.X.IsZero() && child.Y.IsZero()) || child.Z.IsZero() {
		return child, fmt.Errorf("xpub child %d: %w", index, hdkeychain.ErrInvalidChild)
	}
	publicToAffine(&child)
	return child, nil
}

// publicToAffine is JacobianPoint.ToAffine with the field inversion done by
// math/big's extended Euclid (Lehmer) instead of Fermat's exponentiation,
// which costs about as much as the base-point multiplication itself: about a
// quarter of the time. That inversion is not constant-time, so it is only for
// points that are public anyway (children of an extended public key); points
// derived from a private key keep ToAffine.
func publicToAffine(p *btcec.JacobianPoint) {
	var b [32]byte
	p.Z.Normalize()
	p.Z.PutBytes(&b)
	var z big.Int
	z.SetBytes(b[:])
	if z.ModInverse(&z, btcec.S256().Params().P) == nil {
		// Only for Z = 0 (mod p), the point at infinity, which callers have
		// already refused; ToAffine keeps the library's result for it.
		p.ToAffine()
		return
	}
	var zInv, zInv2 btcec.FieldVal
	zInv.SetBytes((*[32]byte)(z.FillBytes(b[:])))
	zInv2.SquareVal(&zInv)
	p.X.Mul(&zInv2)
	p.Y.Mul(zInv2.Mul(&zInv))
	p.Z.SetInt(1)
	p.X.Normalize()
	p.Y.Normalize()
}
