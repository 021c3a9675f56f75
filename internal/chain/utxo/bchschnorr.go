package utxo

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"

	"github.com/btcsuite/btcd/btcec/v2"
)

// Bitcoin Cash Schnorr signatures (BCH upgrade of 2019-05-15), which Tatum's
// BCH signer produces. They are not BIP-340: the public key enters the
// challenge compressed (33 bytes), R is normalized so that y(R) is a quadratic
// residue (not even), and the nonce is RFC 6979 over key ‖ message ‖
// "Schnorr+SHA256  ", as Bitcoin ABC's libsecp256k1 derives it.
//
//	k = RFC6979(d, m, "Schnorr+SHA256  "); R = kG; if jacobi(y(R)) ≠ 1 { k = n-k }
//	e = SHA256(x(R) ‖ compressed(P) ‖ m) mod n;  s = k + e·d mod n;  sig = x(R) ‖ s

var bchSchnorrAlgo = []byte("Schnorr+SHA256  ")

// rfc6979 is the HMAC-SHA256 DRBG of RFC 6979 §3.2 with libsecp256k1's seeding
// (key ‖ message ‖ algorithm tag); next returns successive candidates.
type rfc6979 struct{ k, v [32]byte }

func newRFC6979(seedParts ...[]byte) *rfc6979 {
	var r rfc6979
	for i := range r.v {
		r.v[i] = 1
	}
	for _, sep := range []byte{0, 1} {
		m := hmac.New(sha256.New, r.k[:])
		m.Write(r.v[:])
		m.Write([]byte{sep})
		for _, p := range seedParts {
			m.Write(p)
		}
		m.Sum(r.k[:0])
		m = hmac.New(sha256.New, r.k[:])
		m.Write(r.v[:])
		m.Sum(r.v[:0])
	}
	return &r
}

func (r *rfc6979) next(first bool) [32]byte {
	if !first {
		m := hmac.New(sha256.New, r.k[:])
		m.Write(r.v[:])
		m.Write([]byte{0})
		m.Sum(r.k[:0])
		m = hmac.New(sha256.New, r.k[:])
		m.Write(r.v[:])
		m.Sum(r.v[:0])
	}
	m := hmac.New(sha256.New, r.k[:])
	m.Write(r.v[:])
	m.Sum(r.v[:0])
	return r.v
}

func isSquare(y *btcec.FieldVal) bool {
	var root btcec.FieldVal
	return root.SquareRootVal(y)
}

func bchChallenge(r []byte, pub *btcec.PublicKey, hash []byte) btcec.ModNScalar {
	h := sha256.New()
	h.Write(r)
	h.Write(pub.SerializeCompressed())
	h.Write(hash)
	var e btcec.ModNScalar
	e.SetByteSlice(h.Sum(nil))
	return e
}

// bchSchnorrSign signs a 32-byte sighash.
func bchSchnorrSign(priv *btcec.PrivateKey, hash []byte) []byte {
	d := priv.Key.Bytes()
	defer clear(d[:])
	drbg := newRFC6979(d[:], hash, bchSchnorrAlgo)
	for first := true; ; first = false {
		cand := drbg.next(first)
		var k btcec.ModNScalar
		if overflow := k.SetBytes(&cand); overflow != 0 || k.IsZero() {
			continue
		}
		var R btcec.JacobianPoint
		btcec.ScalarBaseMultNonConst(&k, &R)
		R.ToAffine()
		if !isSquare(&R.Y) {
			k.Negate()
		}
		var r [32]byte
		R.X.PutBytes(&r)
		e := bchChallenge(r[:], priv.PubKey(), hash)
		var s btcec.ModNScalar
		s.Mul2(&e, &priv.Key).Add(&k)
		k.Zero()
		sb := s.Bytes()
		return append(r[:], sb[:]...)
	}
}

var errBadSchnorr = errors.New("BCH Schnorr signature does not verify")

// bchSchnorrVerify checks a 64-byte signature over a 32-byte sighash.
func bchSchnorrVerify(pub *btcec.PublicKey, hash, sig []byte) error {
	if len(sig) != 64 {
		return errBadSchnorr
	}
	var rx btcec.FieldVal
	if overflow := rx.SetByteSlice(sig[:32]); overflow {
		return errBadSchnorr
	}
	var s btcec.ModNScalar
	if overflow := s.SetByteSlice(sig[32:]); overflow {
		return errBadSchnorr
	}
	e := bchChallenge(sig[:32], pub, hash)
	e.Negate()
	var sG, eP, P, R btcec.JacobianPoint
	btcec.ScalarBaseMultNonConst(&s, &sG)
	pub.AsJacobian(&P)
	btcec.ScalarMultNonConst(&e, &P, &eP)
	btcec.AddNonConst(&sG, &eP, &R)
	if R.Z.IsZero() || (R.X.IsZero() && R.Y.IsZero()) {
		return errBadSchnorr
	}
	R.ToAffine()
	if !isSquare(&R.Y) || !R.X.Equals(&rx) {
		return errBadSchnorr
	}
	return nil
}
