package chain

import (
	"crypto/sha256"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	gsecp "github.com/consensys/gnark-crypto/ecc/secp256k1"
)

// baseMultNonConst followed by AddMixed (ChildPoint's use) must give btcec's
// k·G + q: for every byte value in every
// window (so every table entry is used at least once), for scalars with zero
// bytes and the edges 0, 1 and n-1, and it must reach the point at infinity
// when q = -k·G and double when q = k·G.
func TestBaseMultMatchesBtcec(t *testing.T) {
	var q btcec.JacobianPoint
	qk := sha256.Sum256([]byte("q"))
	var qs btcec.ModNScalar
	qs.SetBytes(&qk)
	btcec.ScalarBaseMultNonConst(&qs, &q)
	q.ToAffine()
	qa := toGnarkAffine(&q)

	var scalars [][32]byte
	for v := range 256 {
		var k [32]byte
		for w := range k {
			k[w] = byte(v + 7*w) // byte value v+7w in window w
		}
		scalars = append(scalars, k)
	}
	for i := range 64 {
		k := sha256.Sum256([]byte{byte(i)})
		k[i%32] = 0
		scalars = append(scalars, k)
	}
	var nMinus1 btcec.ModNScalar
	nMinus1.SetInt(1).Negate()
	one := [32]byte{31: 1}
	scalars = append(scalars, [32]byte{}, one, nMinus1.Bytes())

	for _, k := range scalars {
		var s btcec.ModNScalar
		if s.SetBytes(&k) != 0 {
			continue // ≥ n: the caller refuses these
		}
		var want btcec.JacobianPoint
		btcec.ScalarBaseMultNonConst(&s, &want)
		btcec.AddNonConst(&want, &q, &want)
		want.ToAffine()
		var r gsecp.G1Jac
		baseMultNonConst(&k, &r)
		if s.IsZero() != r.Z.IsZero() {
			t.Fatalf("k=%x: k·G at infinity %v", k, r.Z.IsZero())
		}
		if !s.IsZero() {
			// PublicPoints' use: the Jacobian point, converted as it is.
			var kG, kGWant btcec.JacobianPoint
			toBtcecJacobian(&r, &kG)
			kG.ToAffine()
			btcec.ScalarBaseMultNonConst(&s, &kGWant)
			kGWant.ToAffine()
			if !kG.X.Equals(&kGWant.X) || !kG.Y.Equals(&kGWant.Y) {
				t.Fatalf("k=%x: k·G differs from btcec's", k)
			}
		}
		r.AddMixed(&qa)
		var got btcec.JacobianPoint
		toBtcecAffine(&r, &got)
		if !got.X.Equals(&want.X) || !got.Y.Equals(&want.Y) {
			t.Fatalf("k=%x: k·G+q differs from btcec's", k)
		}
	}

	// q = -k·G: the sum is the point at infinity.
	var neg btcec.JacobianPoint
	neg.Set(&q)
	neg.Y.Negate(1).Normalize()
	na := toGnarkAffine(&neg)
	var r gsecp.G1Jac
	baseMultNonConst(&qk, &r)
	r.AddMixed(&na)
	if !r.Z.IsZero() {
		t.Error("k·G - k·G is not the point at infinity")
	}
	// q = k·G: the sum is 2·k·G.
	baseMultNonConst(&qk, &r)
	r.AddMixed(&qa)
	var two, want btcec.JacobianPoint
	btcec.DoubleNonConst(&q, &two)
	want.Set(&two)
	want.ToAffine()
	var got btcec.JacobianPoint
	toBtcecAffine(&r, &got)
	if !got.X.Equals(&want.X) || !got.Y.Equals(&want.Y) {
		t.Error("k·G + k·G differs from btcec's doubling")
	}
}
