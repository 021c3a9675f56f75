package httpguard

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
)

func TestPlaintext(t *testing.T) {
	for raw, want := range map[string]bool{
		"http://api.example.com:8700":       true,
		"http://10.0.0.5":                   true,
		"http://[2001:db8::1]:80":           true,
		"HTTP://api.example.com":            true,
		"https://api.example.com":           false,
		"http://127.0.0.1:8700":             false,
		"http://127.1.2.3":                  false,
		"http://[::1]:8700":                 false,
		"http://localhost:8700":             false,
		"http://LOCALHOST":                  false,
		"http://vault.localhost":            false,
		"http://169.254.169.254/metadata/x": false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := Plaintext(u); got != want {
			t.Errorf("Plaintext(%s) = %v, want %v", raw, got, want)
		}
	}
}

func TestReadAllCaps(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10} {
		b, err := ReadAll(iotest.OneByteReader(strings.NewReader(strings.Repeat("x", n))), 10)
		if err != nil || len(b) != n {
			t.Errorf("%d bytes under a cap of 10: %d, %v", n, len(b), err)
		}
	}
	for _, n := range []int{11, 1000} {
		if _, err := ReadAll(strings.NewReader(strings.Repeat("x", n)), 10); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%d bytes under a cap of 10: %v, want ErrTooLarge", n, err)
		}
	}
}
