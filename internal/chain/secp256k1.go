package chain

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	gsecp "github.com/consensys/gnark-crypto/ecc/secp256k1"
)

// HDSecp256k1 is the mnemonic half of Deriver shared by the BIP-44 secp256k1
// account chains (TRON, VET, FLOW): keys at <account path>/i, an xpub at the
// account path with Bitcoin mainnet version bytes (Tatum shows "xpub" on
// testnet too for these chains). The chain supplies only its string forms.
type HDSecp256k1 struct {
	MainPath, TestPath []uint32 // account-level paths
	// Address renders a public key as the chain's address string.
	Address func(pub *btcec.PublicKey, testnet bool) string
	// FormatKey renders a private key as the chain's (Tatum's) key string.
	FormatKey func(priv *btcec.PrivateKey) string
	// ParseKey reads a key string back; errors wrap ErrInvalidKey.
	ParseKey func(s string) (*btcec.PrivateKey, error)

	last atomic.Pointer[parsedXPub] // the xpub of the previous call, parsed
}

// MustPath parses a constant derivation path; for package-level tables only.
func MustPath(p string) []uint32 {
	out, err := ParsePath(p)
	if err != nil {
		panic(err)
	}
	return out
}

// path is the account path of the network, never to be appended to in place.
func (h *HDSecp256k1) path(testnet bool) []uint32 {
	if testnet {
		return h.TestPath
	}
	return h.MainPath
}

func (h *HDSecp256k1) account(seed []byte, testnet bool) (*hdkeychain.ExtendedKey, error) {
	return DeriveBIP32(seed, &chaincfg.MainNetParams, h.path(testnet))
}

// XPub implements Deriver.
func (h *HDSecp256k1) XPub(seed []byte, testnet bool) (string, error) {
	k, err := h.account(seed, testnet)
	if err != nil {
		return "", err
	}
	n, err := k.Neuter()
	if err != nil {
		return "", err
	}
	return n.String(), nil
}

func (h *HDSecp256k1) childKey(seed []byte, index uint32, testnet bool) (*btcec.PrivateKey, error) {
	return ChildSecp256k1(seed, h.path(testnet), index)
}

// AddressFromSeed implements Deriver.
func (h *HDSecp256k1) AddressFromSeed(seed []byte, index uint32, testnet bool) (string, error) {
	k, err := h.childKey(seed, index, testnet)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return h.Address(k.PubKey(), testnet), nil
}

// PrivateKey implements Deriver.
func (h *HDSecp256k1) PrivateKey(seed []byte, index uint32, testnet bool) (string, error) {
	k, err := h.childKey(seed, index, testnet)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return h.FormatKey(k), nil
}

// AddressFromXPub implements Deriver.
func (h *HDSecp256k1) AddressFromXPub(xpub string, index uint32, testnet bool) (string, error) {
	pub, err := h.ChildPubKey(xpub, index)
	if err != nil {
		return "", err
	}
	return h.Address(pub, testnet), nil
}

// AddressFromPrivateKey implements Deriver.
func (h *HDSecp256k1) AddressFromPrivateKey(key string, testnet bool) (string, error) {
	k, err := h.ParseKey(key)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return h.Address(k.PubKey(), testnet), nil
}

// GeneratePrivateKey implements Deriver.
func (h *HDSecp256k1) GeneratePrivateKey(rand io.Reader, _ bool) (string, error) {
	k, err := RandomSecp256k1(rand)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return h.FormatKey(k), nil
}

// parsedXPub is the xpub of the previous ChildPubKey call, parsed.
type parsedXPub struct {
	xpub string
	key  *XPubKey
}

// ChildPubKey derives the public key at the non-hardened index under an
// extended public key. The last xpub is kept parsed, because address batches
// derive many indices of one xpub.
func (h *HDSecp256k1) ChildPubKey(xpub string, index uint32) (*btcec.PublicKey, error) {
	if _, err := CheckIndex(uint64(index)); err != nil {
		return nil, err
	}
	p := h.last.Load()
	if p == nil || p.xpub != xpub {
		k, err := ParseXPub(xpub)
		if err != nil {
			return nil, fmt.Errorf("invalid xpub: %w", err)
		}
		p = &parsedXPub{xpub: xpub, key: k}
		h.last.Store(p)
	}
	child, err := p.key.ChildPoint(index)
	if err != nil {
		return nil, err
	}
	return btcec.NewPublicKey(&child.X, &child.Y), nil
}

// ParseHexKey reads a secp256k1 private key given as hex, with or without 0x.
// With allowShort, fewer than 64 digits are accepted and left-padded (FLOW keys
// are stored with leading zeros stripped). The scalar must be in 1..n-1.
// Errors wrap ErrInvalidKey and never quote the key.
func ParseHexKey(s string, allowShort bool) (*btcec.PrivateKey, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if len(s) == 0 || len(s) > 64 || (!allowShort && len(s) != 64) {
		return nil, fmt.Errorf("%w: want 64 hex digits, got %d characters", ErrInvalidKey, len(s))
	}
	s = strings.Repeat("0", 64-len(s)) + s
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not hex", ErrInvalidKey)
	}
	defer clear(b)
	return Secp256k1FromBytes(b)
}

// Secp256k1FromBytes checks a 32-byte scalar is a valid private key (1..n-1).
func Secp256k1FromBytes(b []byte) (*btcec.PrivateKey, error) {
	var k btcec.ModNScalar
	if len(b) != 32 {
		return nil, fmt.Errorf("%w: want 32 bytes", ErrInvalidKey)
	}
	if overflow := k.SetByteSlice(b); overflow || k.IsZero() {
		return nil, fmt.Errorf("%w: out of the secp256k1 range", ErrInvalidKey)
	}
	return btcec.PrivKeyFromScalar(&k), nil
}

// RandomSecp256k1 draws a private key from rand (crypto/rand in production).
func RandomSecp256k1(rand io.Reader) (*btcec.PrivateKey, error) {
	var b [32]byte
	defer clear(b[:])
	// A valid draw fails with probability ~2^-128; repeated failures mean a broken source.
	for range 8 {
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return nil, fmt.Errorf("random key: %w", err)
		}
		if k, err := Secp256k1FromBytes(b[:]); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("random key: the random source gives no valid key")
}

// HexKey is a private key as 64 lowercase hex digits.
func HexKey(k *btcec.PrivateKey) string {
	b := k.Key.Bytes()
	defer clear(b[:])
	return hex.EncodeToString(b[:])
}

// PublicPoints computes the public key of each private key as an affine point
// (Z = 1), converting all of them with a single field inversion (Montgomery's
// trick: prefix products, one inversion, then multiplications back), which
// is the same constant-time inversion ToAffine uses: these points come from
// secrets. A zero key is refused before any work.
func PublicPoints(keys []*btcec.PrivateKey, out []btcec.JacobianPoint) error {
	if len(out) != len(keys) {
		return fmt.Errorf("public points: %d keys, %d points", len(keys), len(out))
	}
	if len(keys) == 0 {
		return nil
	}
	for _, k := range keys {
		if k.Key.IsZero() {
			return fmt.Errorf("%w: zero key", ErrInvalidKey)
		}
	}
	for i, k := range keys {
		b := k.Key.Bytes()
		var r gsecp.G1Jac
		baseMultNonConst(&b, &r)
		clear(b[:])
		toBtcecJacobian(&r, &out[i]) // Z ≠ 0: 0 < k < n
	}
	// prefix[i] = Z_0 · … · Z_i
	prefix := make([]btcec.FieldVal, len(out))
	prefix[0].Set(&out[0].Z)
	for i := 1; i < len(out); i++ {
		prefix[i].Mul2(&prefix[i-1], &out[i].Z)
	}
	var inv btcec.FieldVal // (Z_0 · … · Z_i)^-1, walking i down
	inv.Set(&prefix[len(out)-1]).Inverse()
	for i := len(out) - 1; i >= 0; i-- {
		var zInv btcec.FieldVal
		if i > 0 {
			zInv.Mul2(&inv, &prefix[i-1])
			inv.Mul(&out[i].Z)
		} else {
			zInv.Set(&inv)
		}
		var zInv2 btcec.FieldVal
		zInv2.SquareVal(&zInv)
		out[i].X.Mul(&zInv2)
		out[i].Y.Mul(zInv2.Mul(&zInv))
		out[i].Z.SetInt(1)
		out[i].X.Normalize()
		out[i].Y.Normalize()
	}
	clear(prefix)
	return nil
}
