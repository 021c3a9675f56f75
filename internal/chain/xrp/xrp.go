// Package xrp implements the XRP Ledger (XRP): secp256k1 family-seed keypairs.
package xrp

import (
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/custoskms/custos/internal/chain"
)

// Chain is the XRP chain. Wallets are random family seeds: Tatum derives
// nothing from a mnemonic for XRP, and addresses are the same on both networks.
type Chain struct {
	info chain.Info
	chain.NoMnemonic
}

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// XRP is the registered chain value.
var XRP = &Chain{
	info:       chain.Info{Code: "XRP", Slug: "xrp", Kind: chain.KeypairWallet, KeyField: chain.SecretField},
	NoMnemonic: chain.NoMnemonic{Code: "XRP"},
}

var _ chain.Deriver = (*Chain)(nil)

// XRP's base58 uses its own alphabet; the digit values are Bitcoin's, so a
// string converts between the two by mapping each character.
const (
	rippleAlphabet  = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"
	bitcoinAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
)

var toRipple, toBitcoin = strings.NewReplacer(pairs(bitcoinAlphabet, rippleAlphabet)...),
	strings.NewReplacer(pairs(rippleAlphabet, bitcoinAlphabet)...)

func pairs(from, to string) []string {
	out := make([]string, 0, 2*len(from))
	for i := range len(from) {
		out = append(out, from[i:i+1], to[i:i+1])
	}
	return out
}

// Version bytes of the base58check payloads.
const (
	versionAccountID  = 0x00 // r… addresses
	versionFamilySeed = 0x21 // s… secp256k1 seeds
)

// ErrEd25519Seed is returned for an sEd… (ed25519) seed: Tatum's XRP wallets
// are secp256k1 family seeds, and only those are signed here.
var ErrEd25519Seed = errors.New("ed25519 XRP seeds (sEd…) are not supported")

// checkDecode reads an XRP base58check string.
func checkDecode(s string) (payload []byte, version byte, err error) {
	for _, r := range s {
		if !strings.ContainsRune(rippleAlphabet, r) {
			return nil, 0, errors.New("not XRP base58")
		}
	}
	return base58.CheckDecode(toBitcoin.Replace(s))
}

// Address is the classic r… address of a public key.
func Address(pub *btcec.PublicKey) string {
	return toRipple.Replace(base58.CheckEncode(btcutil.Hash160(pub.SerializeCompressed()), versionAccountID))
}

// DecodeAddress returns the 20-byte account id of a classic r… address.
func DecodeAddress(s string) ([]byte, error) {
	b, v, err := checkDecode(s)
	if err != nil || v != versionAccountID || len(b) != 20 {
		return nil, fmt.Errorf("not a classic XRP address")
	}
	return b, nil
}

// ParseSeed reads an s… family seed and derives its account key the way
// ripple-keypairs does for secp256k1: a root key from the 16-byte entropy,
// then account 0 of that root (root + tweak mod n).
func ParseSeed(s string) (*btcec.PrivateKey, error) {
	b, v, err := checkDecode(s)
	defer clear(b)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: XRP secret: %w", chain.ErrInvalidKey, err)
	case v == 0x01 && len(b) == 18 && b[0] == 0xe1 && b[1] == 0x4b:
		return nil, fmt.Errorf("%w: %w", chain.ErrInvalidKey, ErrEd25519Seed)
	case v != versionFamilySeed || len(b) != 16:
		return nil, fmt.Errorf("%w: XRP secret: not a family seed", chain.ErrInvalidKey)
	}
	return keyFromEntropy(b), nil
}

// keyFromEntropy is ripple-keypairs' secp256k1 derivation of account 0.
func keyFromEntropy(entropy []byte) *btcec.PrivateKey {
	root := scalarFrom(entropy)
	rootPub := btcec.PrivKeyFromScalar(root).PubKey().SerializeCompressed()
	tweak := scalarFrom(append(rootPub, 0, 0, 0, 0)) // account index 0
	tweak.Add(root)
	root.Zero()
	return btcec.PrivKeyFromScalar(tweak)
}

// scalarFrom returns the first SHA-512Half(prefix ‖ seq) for seq = 0, 1, …
// that is a valid private key.
func scalarFrom(prefix []byte) *btcec.ModNScalar {
	buf := make([]byte, len(prefix)+4)
	copy(buf, prefix)
	defer clear(buf)
	var k btcec.ModNScalar
	for seq := uint32(0); ; seq++ {
		binary.BigEndian.PutUint32(buf[len(prefix):], seq)
		h := sha512.Sum512(buf)
		overflow := k.SetByteSlice(h[:32])
		clear(h[:])
		if !overflow && !k.IsZero() {
			return &k
		}
	}
}

// AddressFromPrivateKey implements chain.Deriver for an s… family seed.
func (c *Chain) AddressFromPrivateKey(key string, _ bool) (string, error) {
	k, err := ParseSeed(key)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return Address(k.PubKey()), nil
}

// GeneratePrivateKey implements chain.Deriver: a random s… family seed.
func (c *Chain) GeneratePrivateKey(rand io.Reader, _ bool) (string, error) {
	var e [16]byte
	defer clear(e[:])
	if _, err := io.ReadFull(rand, e[:]); err != nil {
		return "", fmt.Errorf("random key: %w", err)
	}
	return toRipple.Replace(base58.CheckEncode(e[:], versionFamilySeed)), nil
}
