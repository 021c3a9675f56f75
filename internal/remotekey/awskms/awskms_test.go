package awskms

import (
	"context"
	"crypto/sha256"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/evm/evmtest"
	"github.com/custoskms/custos/internal/remotekey/awskms/kmstest"
)

// newKey creates a key of spec in the emulator and returns it through New.
func newKey(tb testing.TB, spec types.KeySpec) *Key {
	tb.Helper()
	ep := kmstest.Endpoint(tb)
	k, err := New(context.Background(), Config{KeyID: kmstest.CreateKey(tb, ep, spec), Region: kmstest.Region, Endpoint: ep})
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func TestEVMVectorsSignedThroughKMS(t *testing.T) {
	evmtest.CheckExternalKey(t, newKey(t, types.KeySpecEccSecgP256k1))
}

func TestSignaturesVerifyAndRecover(t *testing.T) {
	k := newKey(t, types.KeySpecEccSecgP256k1)
	ctx := context.Background()
	pub, err := k.PublicKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// KMS picks k at random: over 64 signatures about half come back with a
	// high s, each of which must be normalized and still recover the key.
	for i := range 64 {
		d := sha256.Sum256([]byte{byte(i)})
		r, s, err := k.SignDigest(ctx, d[:])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chain.RecoverableSignature(pub, d[:], r, s); err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
	}
}

func TestRefusesAnotherCurve(t *testing.T) {
	k := newKey(t, types.KeySpecEccNistP256)
	if _, err := k.PublicKey(context.Background()); !errors.Is(err, ErrKeySpec) {
		t.Fatalf("a P-256 key: err %v, want ErrKeySpec", err)
	}
}

func TestUnknownKey(t *testing.T) {
	ep := kmstest.Endpoint(t)
	k, err := New(context.Background(), Config{KeyID: "00000000-0000-0000-0000-000000000000", Region: kmstest.Region, Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.PublicKey(context.Background()); err == nil {
		t.Fatal("an unknown key answered a public key")
	}
}

func TestParseSignatureRefusesJunk(t *testing.T) {
	good := []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}
	if r, s, err := ParseSignature(good); err != nil || r.Int64() != 1 || s.Int64() != 2 {
		t.Fatalf("good signature: %v %v %v", r, s, err)
	}
	for name, der := range map[string][]byte{
		"empty":    nil,
		"garbage":  []byte("not a signature"),
		"trailing": append(append([]byte{}, good...), 0),
		"zeros":    make([]byte, 8),
	} {
		if _, _, err := ParseSignature(der); !errors.Is(err, chain.ErrBadSignature) {
			t.Errorf("%s: err %v, want ErrBadSignature", name, err)
		}
	}
}

func TestParsePublicKeyRefusesJunk(t *testing.T) {
	for name, der := range map[string][]byte{
		"empty":   nil,
		"garbage": []byte("not a key"),
		"zeros":   make([]byte, 88),
	} {
		if _, err := ParsePublicKey(der); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// BenchmarkSignDigest measures signatures per second through the backend
// against the emulator, each one normalized and its recovery id found as the
// daemon does: the rate a daemon signing with one KMS key reaches.
func BenchmarkSignDigest(b *testing.B) {
	k := newKey(b, types.KeySpecEccSecgP256k1)
	ctx := context.Background()
	pub, err := k.PublicKey(ctx)
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("custos"))
	b.ResetTimer()
	for b.Loop() {
		r, s, err := k.SignDigest(ctx, d[:])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := chain.RecoverableSignature(pub, d[:], r, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
}

// A KMS that accepts the connection and never answers fails the call
// within Timeout instead of holding the daemon's run.
func TestTimeout(t *testing.T) {
	kmstest.Endpoint(t) // throwaway credentials
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	k, err := New(context.Background(), Config{KeyID: "k", Region: kmstest.Region, Endpoint: "http://" + ln.Addr().String(), Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, _, err := k.SignDigest(context.Background(), make([]byte, 32)); err == nil {
		t.Fatal("a silent KMS signed")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("gave up after %v, want about 200ms", d)
	}
}
