package chain

import (
	"encoding/binary"
	"errors"
	"math/big"
	"math/bits"
	"sync"

	"github.com/consensys/gnark-crypto/ecc"
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
// u2 = s·r⁻¹ mod n, in gnark-crypto's 4×64-bit field: u1·G from the base
// table (baseMultNonConst) and u2·R with the GLV endomorphism
// (mulGLVNonConst), less than half the time in all. Everything here is
// public (a signature, its hash and the key it recovers), so variable time
// is fine.
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

	// R = (r, y) with y² = r³ + 7 and y's parity the recovery id; r < n < p,
	// so r is its own field element.
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
	mulGLVNonConst(&R, u2.BigInt(new(big.Int)), &p)
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

// glvConstants are secp256k1's endomorphism φ(x, y) = (β·x, y), which is
// the multiplication by λ (β³ = 1 mod p, λ³ = 1 mod n), and the lattice
// that splits a scalar k into k1 + k2·λ with k1, k2 of about 128 bits.
type glvConstants struct {
	beta    fp.Element
	lattice ecc.Lattice
}

// glv is built on first use (a few extended-Euclid steps) and never
// changed afterwards.
var glv = sync.OnceValue(func() *glvConstants {
	c := new(glvConstants)
	c.beta.SetString("55594575648329892869085402983802832744385952214688224221778511981742606582254")
	lambda, _ := new(big.Int).SetString("37718080363155996902926221483475020450927657555482586988616620542887997980018", 10)
	ecc.PrecomputeLattice(fr.Modulus(), lambda, &c.lattice)
	return c
})

// wnafWidth is the window of mulGLVNonConst's digits: odd multiples up to
// 15 of a point and of its image under φ, 8 affine points each.
const wnafWidth = 5

// mulGLVNonConst sets r to k·a for a point a (not at infinity) and a
// scalar 0 ≤ k < n. It splits k as gnark's G1Jac.ScalarMultiplication does
// (k1·a + k2·φ(a), two halves of about 128 bits), but walks the halves in
// width-5 non-adjacent form over affine tables: 128 doublings and about 43
// mixed additions, where gnark's 2-bit window over Jacobian points does up
// to 192 doublings and 96 full additions (the whole recovery: 69–70 µs with
// gnark's, 59–61 µs with this). Variable time: for public scalars and
// points only.
func mulGLVNonConst(a *gsecp.G1Affine, k *big.Int, r *gsecp.G1Jac) {
	c := glv()
	ks := ecc.SplitScalar(k, &c.lattice)

	// t1[i] = (2i+1)·a and t2[i] = φ(t1[i]) = (2i+1)·φ(a).
	var t1, t2 [1 << (wnafWidth - 2)]gsecp.G1Affine
	oddMultiples(a, &t1)
	for i := range t1 {
		t2[i].X.Mul(&t1[i].X, &c.beta)
		t2[i].Y = t1[i].Y
	}
	// A negative half multiplies the negated point.
	if ks[0].Sign() < 0 {
		ks[0].Neg(&ks[0])
		negateAll(t1[:])
	}
	if ks[1].Sign() < 0 {
		ks[1].Neg(&ks[1])
		negateAll(t2[:])
	}
	var d1, d2 [258]int8
	n1, n2 := wnaf(&ks[0], &d1), wnaf(&ks[1], &d2)

	r.X.SetOne()
	r.Y.SetOne()
	r.Z.SetZero()
	var neg gsecp.G1Affine
	for i := max(n1, n2) - 1; i >= 0; i-- {
		if !r.Z.IsZero() {
			r.DoubleAssign()
		}
		for _, dt := range [2]struct {
			d int8
			t *[len(t1)]gsecp.G1Affine
		}{{d1[i], &t1}, {d2[i], &t2}} {
			switch {
			case dt.d > 0:
				r.AddMixed(&dt.t[dt.d/2])
			case dt.d < 0:
				neg.Neg(&dt.t[-dt.d/2])
				r.AddMixed(&neg)
			}
		}
	}
}

// oddMultiples sets t[i] to (2i+1)·a in affine form with one field
// inversion for all (Montgomery's trick; gnark's BatchJacobianToAffineG1
// does the same across goroutines, too dear for 8 points). None of the
// multiples is at infinity: a has the prime order n > 15.
func oddMultiples(a *gsecp.G1Affine, t *[1 << (wnafWidth - 2)]gsecp.G1Affine) {
	var jac [len(t)]gsecp.G1Jac
	var a2 gsecp.G1Jac
	jac[0].FromAffine(a)
	a2.DoubleMixed(a)
	for i := 1; i < len(jac); i++ {
		jac[i].Set(&jac[i-1]).AddAssign(&a2)
	}
	// acc[i] = Z0·…·Zi, then walk back with the inverse of the product.
	var acc [len(t)]fp.Element
	acc[0] = jac[0].Z
	for i := 1; i < len(jac); i++ {
		acc[i].Mul(&acc[i-1], &jac[i].Z)
	}
	var inv, zInv, zInv2 fp.Element
	inv.Inverse(&acc[len(acc)-1])
	for i := len(jac) - 1; i >= 0; i-- {
		if i > 0 {
			zInv.Mul(&inv, &acc[i-1])
			inv.Mul(&inv, &jac[i].Z)
		} else {
			zInv = inv
		}
		zInv2.Square(&zInv)
		t[i].X.Mul(&jac[i].X, &zInv2)
		t[i].Y.Mul(&jac[i].Y, &zInv2).Mul(&t[i].Y, &zInv)
	}
}

func negateAll(t []gsecp.G1Affine) {
	for i := range t {
		t[i].Y.Neg(&t[i].Y)
	}
}

// wnaf writes the width-5 non-adjacent form of k ≥ 0 (k < 2^256) into d,
// least significant digit first: each digit 0 or odd in −15..15, at most
// one non-zero digit in any 5 in a row. It returns the number of digits.
func wnaf(k *big.Int, d *[258]int8) int {
	var b [32]byte
	k.FillBytes(b[:])
	var x [5]uint64 // little-endian words, one spare for the carries
	for i := range 4 {
		x[i] = binary.BigEndian.Uint64(b[24-8*i:])
	}
	n := 0
	for x != [5]uint64{} {
		if x[0]&1 == 1 {
			v := int64(x[0] & (1<<wnafWidth - 1))
			if v >= 1<<(wnafWidth-1) {
				v -= 1 << wnafWidth
			}
			d[n] = int8(v)
			// x -= v, which clears the low wnafWidth bits.
			if v > 0 {
				var borrow uint64
				x[0], borrow = bits.Sub64(x[0], uint64(v), 0)
				for j := 1; j < len(x) && borrow != 0; j++ {
					x[j], borrow = bits.Sub64(x[j], 0, borrow)
				}
			} else {
				var carry uint64
				x[0], carry = bits.Add64(x[0], uint64(-v), 0)
				for j := 1; j < len(x) && carry != 0; j++ {
					x[j], carry = bits.Add64(x[j], 0, carry)
				}
			}
		} else {
			d[n] = 0
		}
		for j := range len(x) - 1 {
			x[j] = x[j]>>1 | x[j+1]<<63
		}
		x[len(x)-1] >>= 1
		n++
	}
	return n
}
