package vet

import (
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/custoskms/custos/internal/chain"
)

// Random keys sign transactions, and their signatures are altered (the
// other recovery id, ids 2 and 3, random r, zero s): the origin
// decodeSigned recovers is what btcec's RecoverCompact (decred's recovery,
// used here before) recovers, and a signature it recovers nothing from is
// refused.
func TestDecodeSignedOriginMatchesRecoverCompact(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{'v', 'e', 't'}))
	for i := range 200 {
		var seed [32]byte
		for j := range seed {
			seed[j] = byte(rng.Uint32())
		}
		priv, _ := btcec.PrivKeyFromBytes(seed[:])
		signed, err := signBody(&body{ChainTag: 0x27, Expiration: 720, Gas: 21000, Nonce: uint64(i)}, priv)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := hex.DecodeString(strings.TrimPrefix(signed.TxData, "0x"))
		var s signedBody
		if err := rlp.DecodeBytes(raw, &s); err != nil {
			t.Fatal(err)
		}
		sig := s.Signature
		for n, alter := range []func(b []byte){
			func([]byte) {},
			func(b []byte) { b[64] ^= 1 },
			func(b []byte) { b[64] += 2 },
			func(b []byte) {
				for j := range 32 {
					b[j] = byte(rng.Uint32())
				}
			},
			func(b []byte) { clear(b[32:64]) },
		} {
			s.Signature = append([]byte(nil), sig...)
			alter(s.Signature)
			altered, err := rlp.EncodeToBytes(&s)
			if err != nil {
				t.Fatal(err)
			}
			_, h, got, err := decodeSigned(altered)
			b := s.Signature
			var want [20]byte
			ok := b[64] <= 1
			if ok {
				pub, _, werr := ecdsa.RecoverCompact(append([]byte{27 + b[64]}, b[:64]...), h[:])
				if ok = werr == nil; ok {
					want = chain.KeccakAddress(pub)
				}
			}
			if (err == nil) != ok || got != want {
				t.Fatalf("alteration %d, sig %x: origin %x, %v; RecoverCompact's %x, %v", n, b, got, err, want, ok)
			}
			if n == 0 && got != chain.KeccakAddress(priv.PubKey()) {
				t.Fatalf("origin %x, want the key's", got)
			}
		}
	}
}
