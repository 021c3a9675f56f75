package shamir

import (
	"bytes"
	"crypto/rand"
	"testing"
)

// FIPS 197 §4.2 and §4.2.1 give these products in the AES field; §5.1.1's
// S-box example gives the inverse of {53}.
func TestFieldVectors(t *testing.T) {
	for _, v := range []struct{ a, b, want byte }{
		{0x57, 0x83, 0xc1},
		{0x57, 0x02, 0xae},
		{0x57, 0x04, 0x47},
		{0x57, 0x08, 0x8e},
		{0x57, 0x10, 0x07},
		{0x57, 0x13, 0xfe},
		{0x53, 0xca, 0x01},
	} {
		if got := mul(v.a, v.b); got != v.want {
			t.Errorf("{%02x}·{%02x} = {%02x}, want {%02x}", v.a, v.b, got, v.want)
		}
	}
	if got := inv(0x53); got != 0xca {
		t.Errorf("inv({53}) = {%02x}, want {ca}", got)
	}
	for a := 1; a < 256; a++ {
		if p := mul(byte(a), inv(byte(a))); p != 1 {
			t.Fatalf("{%02x}·inv = {%02x}", a, p)
		}
	}
}

// A hand-computed split: secret {2a}, threshold 2, polynomial {2a} + {07}x.
// At x = 1: {2d}; at x = 2: {2a} ^ {0e} = {24}; at x = 3: {2a} ^ {09} = {23}.
func TestKnownSplit(t *testing.T) {
	shares, err := Split([]byte{0x2a}, 3, 2, bytes.NewReader([]byte{0x07}))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{{0x2d, 1}, {0x24, 2}, {0x23, 3}}
	for i := range want {
		if !bytes.Equal(shares[i], want[i]) {
			t.Errorf("share %d = %x, want %x", i+1, shares[i], want[i])
		}
	}
	got, err := Combine([][]byte{want[2], want[0]})
	if err != nil || !bytes.Equal(got, []byte{0x2a}) {
		t.Fatalf("Combine = %x, %v", got, err)
	}
}

// Every subset of the threshold's size recovers the secret; every smaller
// subset gives something else.
func TestEverySubset(t *testing.T) {
	secret := make([]byte, 32)
	rand.Read(secret)
	const n, k = 5, 3
	shares, err := Split(secret, n, k, nil)
	if err != nil {
		t.Fatal(err)
	}
	for mask := 1; mask < 1<<n; mask++ {
		var sub [][]byte
		for i := range n {
			if mask&(1<<i) != 0 {
				sub = append(sub, shares[i])
			}
		}
		if len(sub) < 2 {
			continue
		}
		got, err := Combine(sub)
		if err != nil {
			t.Fatal(err)
		}
		if ok := bytes.Equal(got, secret); ok != (len(sub) >= k) {
			t.Errorf("%d shares (mask %05b): recovered = %v", len(sub), mask, ok)
		}
	}
}

func TestRefused(t *testing.T) {
	for _, p := range [][2]int{{1, 1}, {3, 1}, {2, 3}, {256, 2}} {
		if _, err := Split([]byte{1}, p[0], p[1], nil); err != ErrParams {
			t.Errorf("Split(n=%d, k=%d) = %v", p[0], p[1], err)
		}
	}
	for _, s := range [][][]byte{
		{{1, 1}},
		{{1, 1}, {2, 1}},    // same x
		{{1, 1}, {2, 3, 2}}, // lengths differ
		{{1, 0}, {2, 2}},    // x = 0 is the secret itself
	} {
		if _, err := Combine(s); err != ErrShares {
			t.Errorf("Combine(%x) = %v", s, err)
		}
	}
}
