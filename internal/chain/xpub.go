package chain

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	gsecp "github.com/consensys/gnark-crypto/ecc/secp256k1"
)

// XPubKey is an extended public key parsed once for public child derivation:
// its point is kept decompressed, so each child costs one HMAC, one base-point
// multiplication (baseMultNonConst) and one inversion, not the re-parse and
// two square roots of hdkeychain's Derive followed by ECPubKey. A caller that
// derives many indexes of one xpub parses it once (XPubAddresser).
type XPubKey struct {
	version   []byte
	chainCode []byte
	pubBytes  [33]byte       // compressed, as it appears in the HMAC input
	affine    gsecp.G1Affine // the point, added to each tweak·G
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
	var pt btcec.JacobianPoint
	pub.AsJacobian(&pt)
	p.affine = toGnarkAffine(&pt)
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
	var r gsecp.G1Jac
	baseMultNonConst((*[32]byte)(sum[:32]), &r)
	r.AddMixed(&p.affine)
	if r.Z.IsZero() {
		return child, fmt.Errorf("xpub child %d: %w", index, hdkeychain.ErrInvalidChild)
	}
	toBtcecAffine(&r, &child)
	return child, nil
}
