package chain

import (
	"bytes"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	gsecp "github.com/consensys/gnark-crypto/ecc/secp256k1"
	"github.com/ethereum/go-ethereum/crypto"
)

// Group order n and field prime p of secp256k1.
var (
	testN = btcec.S256().N
	testP = btcec.S256().P
)

// ecrecover is the oracle: go-ethereum's Ecrecover (decred's pure-Go
// recovery here, as the build has no cgo) without its 0x04 prefix.
func ecrecover(hash, r, s *[32]byte, v byte) ([]byte, error) {
	sig := make([]byte, 65)
	copy(sig, r[:])
	copy(sig[32:], s[:])
	sig[64] = v
	pub, err := crypto.Ecrecover(hash[:], sig)
	if err != nil {
		return nil, err
	}
	return pub[1:], nil
}

// checkRecover fails t unless RecoverSecp256k1 and Ecrecover agree on
// whether (hash, r, s, v) recovers a key and on the key. Recovery ids 2
// and 3 (x = r + n) Ecrecover may accept; RecoverSecp256k1 refuses them as
// go-ethereum's transaction signers do.
func checkRecover(t testing.TB, hash, r, s *[32]byte, v byte) {
	t.Helper()
	got, err := RecoverSecp256k1(hash, r, s, v)
	if v > 1 {
		if err == nil {
			t.Fatalf("recovery id %d accepted: hash %x r %x s %x", v, hash, r, s)
		}
		return
	}
	want, werr := ecrecover(hash, r, s, v)
	if (err == nil) != (werr == nil) {
		t.Fatalf("hash %x r %x s %x v %d: error %v, go-ethereum's %v", hash, r, s, v, err, werr)
	}
	if err == nil && !bytes.Equal(got[:], want) {
		t.Fatalf("hash %x r %x s %x v %d: key %x, go-ethereum's %x", hash, r, s, v, got, want)
	}
}

func bytes32(x *big.Int) *[32]byte {
	var b [32]byte
	x.FillBytes(b[:])
	return &b
}

// Thousands of random keys each sign a random hash; both recovery ids (the
// other one gives another key or none), the low and the high s of each
// signature, and random r and s (half of them no point) must recover what
// go-ethereum recovers, and the right id must give the signing key back.
func TestRecoverSecp256k1MatchesGoEthereum(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{'r', 'e', 'c'}))
	keys := 3000
	if testing.Short() {
		keys = 300
	}
	for range keys {
		var seed, hash, r, s [32]byte
		fill(rng, seed[:])
		fill(rng, hash[:])
		priv, err := crypto.ToECDSA(seed[:])
		if err != nil {
			t.Fatal(err)
		}
		sig, err := crypto.Sign(hash[:], priv)
		if err != nil {
			t.Fatal(err)
		}
		copy(r[:], sig[:32])
		copy(s[:], sig[32:64])
		got, err := RecoverSecp256k1(&hash, &r, &s, sig[64])
		if err != nil {
			t.Fatalf("key %x: %v", seed, err)
		}
		if want := crypto.FromECDSAPub(&priv.PublicKey)[1:]; !bytes.Equal(got[:], want) {
			t.Fatalf("key %x: recovered %x, want %x", seed, got, want)
		}
		highS := bytes32(new(big.Int).Sub(testN, new(big.Int).SetBytes(s[:])))
		for v := range byte(4) {
			checkRecover(t, &hash, &r, &s, v)
			checkRecover(t, &hash, &r, highS, v)
		}
		fill(rng, r[:])
		fill(rng, s[:])
		checkRecover(t, &hash, &r, &s, byte(rng.IntN(2)))
	}
}

func fill(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// The edges where a recovery must fail, or must not: each checked against
// go-ethereum, and the failures named here must fail.
func TestRecoverSecp256k1Edges(t *testing.T) {
	hash := [32]byte{31: 1}
	one := big.NewInt(1)
	nMinus1 := new(big.Int).Sub(testN, one)
	allOnes := new(big.Int).Sub(new(big.Int).Lsh(one, 256), one)
	valid := big.NewInt(1) // 1³ + 7 = 8 is a square mod p: a point with x = 1
	// x = 5: 132 is not a square mod p, no point.
	notOnCurve := big.NewInt(5)
	for _, x := range []*big.Int{valid, notOnCurve} {
		y2 := new(big.Int).Exp(x, big.NewInt(3), testP)
		y2.Add(y2, big.NewInt(7))
		if sq := new(big.Int).ModSqrt(y2, testP) != nil; sq != (x == valid) {
			t.Fatalf("x = %d: a point %v", x, sq)
		}
	}

	// r such that R = k·G and s = e/k mod n: s·R − e·G is the point at
	// infinity, for the recovery id of R's y.
	k := big.NewInt(12345)
	kx, ky := btcec.S256().ScalarBaseMult(k.Bytes())
	e := new(big.Int).SetBytes(hash[:])
	sInf := new(big.Int).Mul(e, new(big.Int).ModInverse(k, testN))
	sInf.Mod(sInf, testN)
	rInf := new(big.Int).Mod(kx, testN)
	vInf := byte(ky.Bit(0))

	for _, c := range []struct {
		name string
		r, s *big.Int
		v    byte
		fail bool
	}{
		{"r = 0", new(big.Int), valid, 0, true},
		{"s = 0", valid, new(big.Int), 0, true},
		{"r = n", testN, valid, 0, true},
		{"s = n", valid, testN, 0, true},
		{"r = p", testP, valid, 0, true},
		{"r = 2^256-1", allOnes, valid, 1, true},
		{"s = 2^256-1", valid, allOnes, 1, true},
		{"x = r not on the curve", notOnCurve, valid, 0, true},
		{"x = r not on the curve, id 1", notOnCurve, valid, 1, true},
		{"Q at infinity", rInf, sInf, vInf, true},
		{"the other id of Q at infinity", rInf, sInf, 1 - vInf, false},
		{"recovery id 2", valid, valid, 2, true},
		{"recovery id 3", valid, valid, 3, true},
		{"r = 1, s = 1", valid, one, 0, false},
		{"r = 1, s = n-1 (high s)", valid, nMinus1, 1, false},
		{"r = n-1 (no point)", nMinus1, valid, 0, true},
		{"r = n-2 (a point)", new(big.Int).Sub(nMinus1, one), valid, 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.r.BitLen() > 256 || c.s.BitLen() > 256 {
				t.Fatal("value too large for 32 bytes")
			}
			_, err := RecoverSecp256k1(&hash, bytes32(c.r), bytes32(c.s), c.v)
			if (err != nil) != c.fail {
				t.Fatalf("error %v, want failure %v", err, c.fail)
			}
			checkRecover(t, &hash, bytes32(c.r), bytes32(c.s), c.v)
		})
	}

	// A hash of zero (u1 = 0: only u2·R counts) and one ≥ n (reduced).
	r, s := bytes32(rInf), bytes32(big.NewInt(77))
	for _, h := range []*big.Int{new(big.Int), testN, allOnes} {
		for v := range byte(2) {
			checkRecover(t, bytes32(h), r, s, v)
		}
	}
}

// FuzzRecoverSecp256k1 compares RecoverSecp256k1 with go-ethereum's
// Ecrecover on arbitrary hash, r, s and recovery id bytes.
func FuzzRecoverSecp256k1(f *testing.F) {
	f.Add(make([]byte, 32), make([]byte, 32), make([]byte, 32), byte(0))
	f.Add([]byte{1}, []byte{5}, []byte{1}, byte(1))
	f.Add(testN.Bytes(), testN.Bytes(), testP.Bytes(), byte(2))
	f.Add(bytes.Repeat([]byte{0xff}, 32), []byte{5}, new(big.Int).Rsh(testN, 1).Bytes(), byte(0))
	f.Fuzz(func(t *testing.T, h, r, s []byte, v byte) {
		hash, rb, sb := pad32(h), pad32(r), pad32(s)
		checkRecover(t, hash, rb, sb, v%4)
	})
}

// pad32 takes the last 32 bytes of b, left-padded with zeros.
func pad32(b []byte) *[32]byte {
	var out [32]byte
	if len(b) > 32 {
		b = b[len(b)-32:]
	}
	copy(out[32-len(b):], b)
	return &out
}

// BenchmarkRecover is one sender recovery: go-ethereum's Ecrecover
// (decred's pure-Go recovery without cgo) and RecoverSecp256k1.
func BenchmarkRecover(b *testing.B) {
	priv, err := crypto.ToECDSA(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		b.Fatal(err)
	}
	hash := [32]byte{1, 2, 3}
	sig, err := crypto.Sign(hash[:], priv)
	if err != nil {
		b.Fatal(err)
	}
	r, s := (*[32]byte)(sig[:32]), (*[32]byte)(sig[32:64])
	baseTable() // built once per process, outside the measure
	b.Run("go-ethereum", func(b *testing.B) {
		for b.Loop() {
			if _, err := crypto.Ecrecover(hash[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gnark", func(b *testing.B) {
		for b.Loop() {
			if _, err := RecoverSecp256k1(&hash, r, s, sig[64]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// mulGLVNonConst must give gnark's k·a (its GLV multiplication, a
// different walk over the same split) for random points and scalars and
// for the edges: 0, 1, 15 and 16 (the table's last entry and the first
// carry), λ (k2 = 1 alone), n−1 and scalars of 128 and 129 bits.
func TestMulGLVNonConstMatchesGnark(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{'g', 'l', 'v'}))
	lambda, _ := new(big.Int).SetString("37718080363155996902926221483475020450927657555482586988616620542887997980018", 10)
	one := big.NewInt(1)
	edges := []*big.Int{new(big.Int), one, big.NewInt(15), big.NewInt(16), lambda, new(big.Int).Sub(testN, one),
		new(big.Int).Lsh(one, 128), new(big.Int).Sub(new(big.Int).Lsh(one, 129), one)}
	_, g := gsecp.Generators()
	for i := range 500 {
		var kb [32]byte
		fill(rng, kb[:])
		var a gsecp.G1Affine
		a.ScalarMultiplication(&g, new(big.Int).SetBytes(kb[:])) // a random point
		fill(rng, kb[:])
		k := new(big.Int).Mod(new(big.Int).SetBytes(kb[:]), testN)
		if i < len(edges) {
			k = edges[i]
		}
		var want, got gsecp.G1Jac
		want.FromAffine(&a)
		want.ScalarMultiplication(&want, k)
		mulGLVNonConst(&a, k, &got)
		if !got.Equal(&want) {
			t.Fatalf("a %s, k %x: got %s, want %s", a.String(), k, got.String(), want.String())
		}
	}
}

// wnaf's digits are 0 or odd in −15..15, no two non-zero ones closer than
// 5 places, and they sum back to k; also for runs of ones, whose negative
// digits carry across 64-bit words up to 2^256.
func TestWNAF(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{'n', 'a', 'f'}))
	one := big.NewInt(1)
	for i := range 2000 + 257 {
		var kb [32]byte
		fill(rng, kb[:])
		k := new(big.Int).SetBytes(kb[:])
		k.Rsh(k, uint(i%257)) // every length from 256 bits down to 0
		if i >= 2000 {
			k.Lsh(one, uint(i-2000)).Sub(k, one) // 2^j − 1 for j = 0..256
		}
		var d [258]int8
		n := wnaf(k, &d)
		sum, last := new(big.Int), -wnafWidth
		for j := n - 1; j >= 0; j-- {
			sum.Lsh(sum, 1).Add(sum, big.NewInt(int64(d[j])))
		}
		for j := range n {
			if d[j] == 0 {
				continue
			}
			if d[j]%2 == 0 || d[j] > 15 || d[j] < -15 || j-last < wnafWidth {
				t.Fatalf("k %x: digit %d at %d (previous at %d)", k, d[j], j, last)
			}
			last = j
		}
		if sum.Cmp(k) != 0 || (n > 0 && d[n-1] == 0) {
			t.Fatalf("k %x: digits %v sum to %x", k, d[:n], sum)
		}
	}
}
