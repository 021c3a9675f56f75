// Package xlm implements Stellar (XLM): ed25519 keypairs shown as G…/S… strkeys.
package xlm

import (
	"crypto/ed25519"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/custoskms/custos/internal/chain"
)

// Chain is the XLM chain. Wallets are random keypairs: Tatum derives nothing
// from a mnemonic for XLM, and addresses are the same on both networks.
type Chain struct {
	info chain.Info
	chain.NoMnemonic
}

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// XLM is the registered chain value.
var XLM = &Chain{
	info:       chain.Info{Code: "XLM", Slug: "xlm", Kind: chain.KeypairWallet, KeyField: chain.SecretField},
	NoMnemonic: chain.NoMnemonic{Code: "XLM"},
}

var _ chain.Deriver = (*Chain)(nil)

// Strkey version bytes (SEP-23): the base32 form starts with G or S.
const (
	versionAccountID = 6 << 3  // G…
	versionSeed      = 18 << 3 // S…
)

// 35 bytes fill 56 base32 digits exactly, so no spare bits make an encoding non-canonical.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// crc16 is CRC-16/XMODEM (poly 0x1021, init 0), the strkey checksum.
func crc16(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c ^= uint16(x) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
	}
	return c
}

func encode(version byte, payload []byte) string {
	b := make([]byte, 0, 1+len(payload)+2)
	b = append(b, version)
	b = append(b, payload...)
	b = binary.LittleEndian.AppendUint16(b, crc16(b))
	defer clear(b)
	return b32.EncodeToString(b)
}

// decode reads a 32-byte strkey of the given version.
func decode(version byte, s string) ([]byte, error) {
	if len(s) != 56 {
		return nil, fmt.Errorf("strkey: want 56 characters, got %d", len(s))
	}
	b, err := b32.DecodeString(s)
	if err != nil || len(b) != 35 {
		clear(b) // what did decode may be part of a secret
		return nil, fmt.Errorf("strkey: not base32")
	}
	if b[0] != version {
		clear(b)
		return nil, fmt.Errorf("strkey: wrong version byte")
	}
	if binary.LittleEndian.Uint16(b[33:]) != crc16(b[:33]) {
		clear(b)
		return nil, fmt.Errorf("strkey: bad checksum")
	}
	out := append([]byte(nil), b[1:33]...)
	clear(b)
	return out, nil
}

// Address is the G… strkey of a public key.
func Address(pub ed25519.PublicKey) string { return encode(versionAccountID, pub) }

// DecodeAddress returns the public key of a G… address.
func DecodeAddress(s string) (ed25519.PublicKey, error) { return decode(versionAccountID, s) }

// ParseSecret reads an S… secret seed into its ed25519 key.
func ParseSecret(s string) (ed25519.PrivateKey, error) {
	seed, err := decode(versionSeed, s)
	if err != nil {
		return nil, fmt.Errorf("%w: XLM secret: %w", chain.ErrInvalidKey, err)
	}
	defer clear(seed)
	return ed25519.NewKeyFromSeed(seed), nil
}

// AddressFromPrivateKey implements chain.Deriver.
func (c *Chain) AddressFromPrivateKey(key string, _ bool) (string, error) {
	k, err := ParseSecret(key)
	if err != nil {
		return "", err
	}
	defer clear(k)
	return Address(k.Public().(ed25519.PublicKey)), nil
}

// GeneratePrivateKey implements chain.Deriver: a random S… secret.
func (c *Chain) GeneratePrivateKey(rand io.Reader, _ bool) (string, error) {
	var seed [ed25519.SeedSize]byte
	defer clear(seed[:])
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return "", fmt.Errorf("random key: %w", err)
	}
	return encode(versionSeed, seed[:]), nil
}
