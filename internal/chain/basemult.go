package chain

import (
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
	gsecp "github.com/consensys/gnark-crypto/ecc/secp256k1"
	"github.com/consensys/gnark-crypto/ecc/secp256k1/fp"
)

// Base-point multiplication: btcec's ScalarBaseMultNonConst adds 32 table
// points in 10×26-bit limb arithmetic and costs about two thirds of an address
// from an xpub or of a generated key; the same 32 mixed additions in
// gnark-crypto's 4×64-bit field take about half as long.
//
// Neither is constant-time: both pick a table entry by each byte of the
// scalar. btcec uses its variable-time multiplication for a private key's
// public key too (PrivateKey.PubKey), so baseMultNonConst takes exactly the
// places where ScalarBaseMultNonConst was used, secret scalars included,
// without exposing anything more; the field inversions of secret points stay
// constant-time (PublicPoints).

// baseTable holds j·256^w·G as affine points for every window w (the
// scalar's byte w, most significant first) and byte value j; entry 0 is the
// point at infinity, which AddMixed skips. 32·256 points of 64 bytes: 512 KiB,
// built on first use (about 10 ms) and never changed afterwards.
var baseTable = sync.OnceValue(func() *[32][256]gsecp.G1Affine {
	t := new([32][256]gsecp.G1Affine)
	_, g := gsecp.Generators()
	var base gsecp.G1Jac // 256^w·G
	base.FromAffine(&g)
	row := make([]gsecp.G1Jac, 256)
	for w := 31; w >= 0; w-- {
		row[0].X.SetOne()
		row[0].Y.SetOne()
		row[0].Z.SetZero()
		for j := 1; j < 256; j++ {
			row[j] = row[j-1]
			row[j].AddAssign(&base)
		}
		copy(t[w][:], gsecp.BatchJacobianToAffineG1(row))
		for range 8 {
			base.DoubleAssign()
		}
	}
	return t
})

// baseMultNonConst sets r to k·G for a big-endian scalar k (any 256-bit
// value; the caller refuses those ≥ n where that matters). The result may be
// the point at infinity (Z = 0).
func baseMultNonConst(k *[32]byte, r *gsecp.G1Jac) {
	t := baseTable()
	r.X.SetOne()
	r.Y.SetOne()
	r.Z.SetZero()
	for w, b := range k {
		r.AddMixed(&t[w][b])
	}
}

// toGnarkAffine converts an affine btcec point (Z = 1).
func toGnarkAffine(p *btcec.JacobianPoint) gsecp.G1Affine {
	var a gsecp.G1Affine
	var b [32]byte
	p.X.PutBytes(&b)
	a.X.SetBytes(b[:])
	p.Y.PutBytes(&b)
	a.Y.SetBytes(b[:])
	return a
}

// toBtcecJacobian converts r, which must not be the point at infinity.
func toBtcecJacobian(r *gsecp.G1Jac, p *btcec.JacobianPoint) {
	setField(&p.X, &r.X)
	setField(&p.Y, &r.Y)
	setField(&p.Z, &r.Z)
}

// toBtcecAffine sets p to the affine form of r, which must not be the point
// at infinity. The inversion (math/big's extended Euclid inside gnark's
// Inverse) is variable-time, which is fine for public points only.
func toBtcecAffine(r *gsecp.G1Jac, p *btcec.JacobianPoint) {
	var a gsecp.G1Affine
	a.FromJacobian(r)
	setField(&p.X, &a.X)
	setField(&p.Y, &a.Y)
	p.Z.SetInt(1)
}

func setField(f *btcec.FieldVal, e *fp.Element) {
	b := e.Bytes()
	f.SetBytes(&b)
}
