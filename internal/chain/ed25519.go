package chain

import (
	"crypto/ed25519"
	"fmt"
	"io"
)

// HDEd25519 is the mnemonic half of Deriver shared by the SLIP-10 ed25519
// chains (SOL, EGLD): the key at index i is <account path>/i' (every level
// hardened), so there is no xpub. The chain supplies only its string forms.
type HDEd25519 struct {
	MainPath, TestPath []uint32 // account-level paths; the index is appended hardened
	// Address renders a public key as the chain's address string.
	Address func(pub ed25519.PublicKey) string
	// FormatKey renders a private key as the chain's (Tatum's) key string.
	FormatKey func(priv ed25519.PrivateKey) string
	// ParseKey reads a key string back; errors wrap ErrInvalidKey.
	ParseKey func(s string) (ed25519.PrivateKey, error)
}

// XPub implements Deriver: ed25519 chains have none.
func (h *HDEd25519) XPub([]byte, bool) (string, error) { return "", ErrNoXPub }

// AddressFromXPub implements Deriver: ed25519 chains have no xpub.
func (h *HDEd25519) AddressFromXPub(string, uint32, bool) (string, error) { return "", ErrNoXPub }

// Key derives the ed25519 key at index.
func (h *HDEd25519) Key(seed []byte, index uint32, testnet bool) (ed25519.PrivateKey, error) {
	if _, err := CheckIndex(uint64(index)); err != nil {
		return nil, err
	}
	p := h.MainPath
	if testnet {
		p = h.TestPath
	}
	full := append(append(make([]uint32, 0, len(p)+1), p...), index+Hardened)
	s, err := SLIP10Ed25519(seed, full)
	if err != nil {
		return nil, err
	}
	defer clear(s)
	return ed25519.NewKeyFromSeed(s), nil
}

// AddressFromSeed implements Deriver.
func (h *HDEd25519) AddressFromSeed(seed []byte, index uint32, testnet bool) (string, error) {
	k, err := h.Key(seed, index, testnet)
	if err != nil {
		return "", err
	}
	defer clear(k)
	return h.Address(k.Public().(ed25519.PublicKey)), nil
}

// PrivateKey implements Deriver.
func (h *HDEd25519) PrivateKey(seed []byte, index uint32, testnet bool) (string, error) {
	k, err := h.Key(seed, index, testnet)
	if err != nil {
		return "", err
	}
	defer clear(k)
	return h.FormatKey(k), nil
}

// AddressFromPrivateKey implements Deriver.
func (h *HDEd25519) AddressFromPrivateKey(key string, _ bool) (string, error) {
	k, err := h.ParseKey(key)
	if err != nil {
		return "", err
	}
	defer clear(k)
	return h.Address(k.Public().(ed25519.PublicKey)), nil
}

// GeneratePrivateKey implements Deriver.
func (h *HDEd25519) GeneratePrivateKey(rand io.Reader, _ bool) (string, error) {
	var s [ed25519.SeedSize]byte
	defer clear(s[:])
	if _, err := io.ReadFull(rand, s[:]); err != nil {
		return "", fmt.Errorf("random key: %w", err)
	}
	k := ed25519.NewKeyFromSeed(s[:])
	defer clear(k)
	return h.FormatKey(k), nil
}
