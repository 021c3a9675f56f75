package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
)

// DigestSigner is a secp256k1 key held outside this process (a cloud KMS key,
// an HSM object): it signs 32-byte digests and never hands the key out. It is
// all a backend has to provide; RecoverableSignature turns whatever valid
// ECDSA signature it returns (high or low s, random k) into the form chains
// need, so a new backend is only its transport.
type DigestSigner interface {
	// PublicKey is the public half of the key.
	PublicKey(ctx context.Context) (*btcec.PublicKey, error)
	// SignDigest signs digest, which is already hashed (32 bytes), and
	// returns the signature's r and s.
	SignDigest(ctx context.Context, digest []byte) (r, s *big.Int, err error)
}

// ExternalSigner is a chain that signs with keys held outside the process.
type ExternalSigner interface {
	// SignExternal signs req as Signer.Sign would, with keys in place of
	// req.Keys (which it ignores). A remote key picks its nonce at random, so
	// two calls give two different valid signatures: the caller keeps the
	// first one it recorded (the daemon's ledger does), never both.
	SignExternal(ctx context.Context, req SignRequest, keys []DigestSigner) (Signed, error)
	// AddressFromPublicKey is the address of a key, as a wallet registering
	// an external key shows it.
	AddressFromPublicKey(pub *btcec.PublicKey, testnet bool) string
}

// ErrBadSignature is a signature from a DigestSigner that does not verify
// against its public key and the digest, or is out of range.
var ErrBadSignature = errors.New("signature does not verify")

// RecoverableSignature returns r and s as the 65 bytes R || S || V that
// Ethereum's signers and Bitcoin's compact form are built from: s made low
// (s ≤ n/2, which Ethereum requires since Homestead and Bitcoin's
// standardness rules require), and V (0 or 1) the recovery id that gives pub
// back from digest. The signature is verified first: a backend that signed
// another digest, or with another key, is an error rather than a transaction
// the chain would refuse or credit to a stranger.
func RecoverableSignature(pub *btcec.PublicKey, digest []byte, r, s *big.Int) ([]byte, error) {
	if len(digest) != 32 {
		return nil, fmt.Errorf("%w: digest is %d bytes, want 32", ErrBadSignature, len(digest))
	}
	n := btcec.S256().N
	if r == nil || s == nil || r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(n) >= 0 || s.Cmp(n) >= 0 {
		return nil, fmt.Errorf("%w: r or s out of range", ErrBadSignature)
	}
	if s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		s = new(big.Int).Sub(n, s)
	}
	out := make([]byte, 65)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:64])
	var rs, ss btcec.ModNScalar
	rs.SetByteSlice(out[:32])
	ss.SetByteSlice(out[32:64])
	if !ecdsa.NewSignature(&rs, &ss).Verify(digest, pub) {
		return nil, ErrBadSignature
	}
	compact := make([]byte, 65)
	copy(compact[1:], out[:64])
	for v := byte(0); v < 2; v++ {
		compact[0] = 27 + v // uncompressed-key form: the header carries only v
		got, _, err := ecdsa.RecoverCompact(compact, digest)
		if err == nil && got.IsEqual(pub) {
			out[64] = v
			return out, nil
		}
	}
	// Ids 2 and 3 need r ≥ n, which happens with probability about 2^-128.
	return nil, fmt.Errorf("%w: no recovery id gives the key back", ErrBadSignature)
}
