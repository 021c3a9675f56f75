package chain

import (
	"errors"
	"math/big"

	gsecp "github.com/consensys/gnark-crypto/ecc/secp256k1"
	"github.com/consensys/gnark-crypto/ecc/secp256k1/fp"
	"github.com/consensys/gnark-crypto/ecc/secp256k1/fr"
	"golang.org/x/crypto/sha3"
)

// ErrNoPublicKey is returned by RecoverSecp256k1 for a signature from
// which no public key can be recovered.
var ErrNoPublicKey = errors.New("signature recovers no public key")

// RecoverSecp256k1 returns the uncompressed public key X ‖ Y (without the
// 0x04 prefix) whose ECDSA signature (r, s) over the 32-byte hash has the
// recovery id recID, as go-ethereum's Ecrecover does for ids 0 and 1. It
// fails (ErrNoPublicKey) exactly where Ecrecover does: r or s zero or ≥ n,
// no curve point with x = r, or a key at infinity; and for ids 2 and 3
// (x = r + n), which no Ethereum signature may carry. High s is accepted:
// the callers' rules about s come before it.
//
// A signing server checks the sender of every signed transaction it takes,
// and decred's pure-Go recovery (what go-ethereum uses without cgo) spends
// most of its time in a variable-base multiplication in 10×26-bit limbs.
// Here Q = r⁻¹(s·R − e·G) is computed as u1·G + u2·R, u1 = −e·r⁻¹ and
// u2 = s·r⁻¹ mod n: u1·G from the base table (baseMultNonConst) and u2·R
// with gnark-crypto's GLV multiplication in 4×64-bit limbs, about a third
// of the time in all. Everything here is public (a signature, its hash and
// the key it recovers), so variable time is fine.
func RecoverSecp256k1(hash, r, s *[32]byte, recID byte) ([64]byte, error) {
	var out [64]byte
	if recID > 1 {
		return out, ErrNoPublicKey
	}
	var rn, sn, e fr.Element
	if rn.SetBytesCanonical(r[:]) != nil || rn.IsZero() || sn.SetBytesCanonical(s[:]) != nil || sn.IsZero() {
		return out, ErrNoPublicKey
	}
	e.SetBytes(hash[:]) // reduced mod n, as the hash is taken as a scalar

	// R = (r, y) with y² = r³ + 7 and y's parity the recovery id's low bit;
	// r < n < p, so r is its own field element.
	var R gsecp.G1Affine
	R.X.SetBytes(r[:])
	var y2 fp.Element
	b := fp.NewElement(7) // y² = x³ + 7
	y2.Square(&R.X).Mul(&y2, &R.X).Add(&y2, &b)
	if R.Y.Sqrt(&y2) == nil {
		return out, ErrNoPublicKey
	}
	if R.Y.Bits()[0]&1 != uint64(recID) {
		R.Y.Neg(&R.Y)
	}

	var rInv, u1, u2 fr.Element
	rInv.Inverse(&rn)
	u1.Mul(&e, &rInv).Neg(&u1)
	u2.Mul(&sn, &rInv)

	var q, p gsecp.G1Jac
	u1b := u1.Bytes()
	baseMultNonConst(&u1b, &q)
	p.FromAffine(&R)
	p.ScalarMultiplication(&p, u2.BigInt(new(big.Int)))
	q.AddAssign(&p)
	if q.Z.IsZero() {
		return out, ErrNoPublicKey
	}
	var a gsecp.G1Affine
	a.FromJacobian(&q)
	x, y := a.X.Bytes(), a.Y.Bytes()
	copy(out[:32], x[:])
	copy(out[32:], y[:])
	return out, nil
}

// KeccakAddressXY is the Ethereum-style address (the last 20 bytes of the
// Keccak-256 hash) of an uncompressed public key X ‖ Y.
func KeccakAddressXY(xy *[64]byte) [20]byte {
	h := sha3.NewLegacyKeccak256()
	h.Write(xy[:])
	var sum [32]byte
	h.Sum(sum[:0])
	var a [20]byte
	copy(a[:], sum[12:])
	return a
}
