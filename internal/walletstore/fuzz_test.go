package walletstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

func FuzzParseHeader(f *testing.F) {
	h, err := wrap([]byte("pw"), make([]byte, dataKeyLen), cheapKDF, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	good := h.encode()
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte("CSTW"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(b)
		if err != nil {
			return
		}
		if !bytes.Equal(h.encode(), b) {
			t.Fatal("accepted header does not re-encode to its input")
		}
		if h.Kind == kdfArgon2id && h.KDF.validate() != nil {
			t.Fatal("accepted header with invalid KDF parameters")
		}
	})
}

func FuzzOpenRecord(f *testing.F) {
	key := make([]byte, dataKeyLen)
	aead, _ := chacha20poly1305.NewX(key)
	rec, err := sealRecord(aead, "id", &Wallet{PrivateKey: testKey, Chain: "ETH"}, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rec, []byte(`{"privateKey":"k","chain":"ETH"}`))
	f.Add(rec[:30], []byte(`{"chain":1}`))
	f.Add([]byte{2}, []byte(`null`))
	f.Fuzz(func(t *testing.T, sealed, plain []byte) {
		if w, err := openRecord(aead, "id", sealed); err == nil && w.validate() != nil {
			t.Fatal("accepted an invalid record")
		}
		if w, err := decodeRecord("id", plain); err == nil && w.validate() != nil {
			t.Fatal("accepted an invalid record")
		}
	})
}

// FuzzOpenFile writes mutated store files and opens them: corrupt or truncated
// input must give an error, never a panic.
func FuzzOpenFile(f *testing.F) {
	dir := f.TempDir()
	good := filepath.Join(dir, "good")
	s, err := Open(context.Background(), good, []byte(testPassword), Options{Create: true})
	if err != nil {
		f.Fatal(err)
	}
	s.Put(context.Background(), "a", &Wallet{PrivateKey: testKey, Chain: "ETH"})
	s.Close()
	full, _ := os.ReadFile(good)
	f.Add(full, uint32(0), byte(0))
	f.Add(full, uint32(100), byte(0xff))
	f.Add(full[:len(full)/2], uint32(0), byte(0))
	f.Add([]byte("U2FsdGVkX1"), uint32(0), byte(0))
	f.Fuzz(func(t *testing.T, b []byte, at uint32, x byte) {
		b = append([]byte(nil), b...)
		if len(b) > 0 {
			b[int(at)%len(b)] ^= x
		}
		p := filepath.Join(t.TempDir(), "w")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(context.Background(), p, []byte(testPassword), Options{})
		if err != nil {
			return
		}
		defer s.Close()
		s.All(context.Background())
		s.Get(context.Background(), "a")
	})
}

// decodeShare never panics, and what it accepts encodes back to itself.
func FuzzDecodeShare(f *testing.F) {
	f.Add(encodeShare(make([]byte, splitIDLen), 2, make([]byte, dataKeyLen+1)))
	f.Add(sharePrefix)
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := decodeShare(s)
		if err != nil {
			return
		}
		// The base64 decoder skips line breaks: compare without them.
		if encodeShare(sh.splitID, sh.threshold, sh.point) != strings.NewReplacer("\r", "", "\n", "").Replace(strings.TrimSpace(s)) {
			t.Fatal("accepted share does not re-encode to its input")
		}
	})
}
