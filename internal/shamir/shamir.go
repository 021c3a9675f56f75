// Package shamir splits a secret into n shares of which any k recover it and
// k−1 reveal nothing: Shamir's scheme over GF(2^8), byte by byte, with the
// field of AES (reduction polynomial x^8+x^4+x^3+x+1, FIPS 197 §4.2).
//
// A share is the secret's length of polynomial values followed by one byte,
// the x coordinate (1..255) at which they were taken. Field arithmetic is
// written without tables or secret-dependent branches, so that the time it
// takes does not depend on the secret.
package shamir

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

var (
	// ErrParams is returned for a threshold or share count out of range.
	ErrParams = errors.New("shamir: need 2 ≤ threshold ≤ shares ≤ 255")
	// ErrShares is returned by Combine for shares that cannot belong to one
	// split: fewer than two, different lengths, or a repeated x coordinate.
	ErrShares = errors.New("shamir: malformed shares")
)

// mul multiplies in GF(2^8) modulo x^8+x^4+x^3+x+1, in constant time.
func mul(a, b byte) byte {
	var p byte
	for range 8 {
		p ^= a & -(b & 1)
		// xtime: multiply a by x, reducing by 0x1b when the top bit falls off.
		a = a<<1 ^ 0x1b&-(a>>7)
		b >>= 1
	}
	return p
}

// inv is the multiplicative inverse, a^254 (a^255 = 1); inv(0) is 0.
func inv(a byte) byte {
	// 254 = 0b11111110: square-and-multiply with a fixed sequence.
	r := byte(1)
	x := a
	for range 7 {
		x = mul(x, x)
		r = mul(r, x)
	}
	return r
}

// Split returns n shares of secret, any k of which recover it. Coefficients
// come from rnd (crypto/rand when nil).
func Split(secret []byte, n, k int, rnd io.Reader) ([][]byte, error) {
	if k < 2 || k > n || n > 255 {
		return nil, ErrParams
	}
	if len(secret) == 0 {
		return nil, errors.New("shamir: empty secret")
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	// coef[i] holds the k−1 random coefficients of byte i's polynomial; the
	// constant term is the secret byte.
	coef := make([]byte, len(secret)*(k-1))
	defer clear(coef)
	if _, err := io.ReadFull(rnd, coef); err != nil {
		return nil, fmt.Errorf("shamir: random coefficients: %w", err)
	}
	shares := make([][]byte, n)
	for s := range shares {
		x := byte(s + 1)
		out := make([]byte, len(secret)+1)
		for i, c0 := range secret {
			// Horner's rule from the highest coefficient down.
			cs := coef[i*(k-1) : (i+1)*(k-1)]
			var y byte
			for j := len(cs) - 1; j >= 0; j-- {
				y = mul(y, x) ^ cs[j]
			}
			out[i] = mul(y, x) ^ c0
		}
		out[len(secret)] = x
		shares[s] = out
	}
	return shares, nil
}

// Combine interpolates the shares at x = 0. Given at least the threshold of
// one split's shares it returns the secret; given fewer, or a share altered,
// it returns bytes unrelated to the secret: callers check the result (the
// wallet store does, by unwrapping its data key).
func Combine(shares [][]byte) ([]byte, error) {
	if len(shares) < 2 {
		return nil, ErrShares
	}
	l := len(shares[0])
	if l < 2 {
		return nil, ErrShares
	}
	xs := make([]byte, len(shares))
	seen := [256]bool{}
	for i, s := range shares {
		if len(s) != l || s[l-1] == 0 || seen[s[l-1]] {
			return nil, ErrShares
		}
		xs[i] = s[l-1]
		seen[xs[i]] = true
	}
	// Lagrange basis at 0: w_i = Π_{j≠i} x_j / (x_j − x_i); subtraction is xor.
	ws := make([]byte, len(shares))
	for i := range shares {
		num, den := byte(1), byte(1)
		for j := range shares {
			if i != j {
				num = mul(num, xs[j])
				den = mul(den, xs[j]^xs[i])
			}
		}
		ws[i] = mul(num, inv(den))
	}
	secret := make([]byte, l-1)
	for b := range secret {
		var v byte
		for i, s := range shares {
			v ^= mul(ws[i], s[b])
		}
		secret[b] = v
	}
	return secret, nil
}
