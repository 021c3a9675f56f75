package chain

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/tyler-smith/go-bip39"
)

// Hardened is the BIP-32 offset of hardened child indices.
const Hardened = hdkeychain.HardenedKeyStart

// MaxIndex is the largest address index a wallet accepts (2^31-1): indices are
// appended non-hardened, and the hardened range is not an address index.
const MaxIndex = Hardened - 1

// Seed validates a BIP-39 mnemonic (known words, checksum) and returns its
// 64-byte seed with the empty passphrase, as Tatum derives. Runs of white space
// between words are folded, as users paste mnemonics with stray spaces.
func Seed(mnemonic string) ([]byte, error) {
	m := strings.Join(strings.Fields(mnemonic), " ")
	if _, err := bip39.EntropyFromMnemonic(m); err != nil {
		// The library's error text can quote the offending word: keep it out.
		return nil, ErrInvalidMnemonic
	}
	return bip39.NewSeed(m, ""), nil
}

// ParsePath parses a BIP-32 path such as "m/44'/60'/0'/0".
func ParsePath(path string) ([]uint32, error) {
	parts := strings.Split(path, "/")
	if len(parts) == 0 || parts[0] != "m" {
		return nil, fmt.Errorf("derivation path %q: must start with m", path)
	}
	out := make([]uint32, 0, len(parts)-1)
	for _, p := range parts[1:] {
		hard := strings.HasSuffix(p, "'") || strings.HasSuffix(p, "h")
		p = strings.TrimRight(p, "'h")
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || n >= Hardened {
			return nil, fmt.Errorf("derivation path %q: bad element %q", path, p)
		}
		if hard {
			n += Hardened
		}
		out = append(out, uint32(n))
	}
	return out, nil
}

// DeriveBIP32 derives the extended key at path from a seed. net supplies the
// version bytes of the serialized key (xpub/tpub/Ltub…).
func DeriveBIP32(seed []byte, net *chaincfg.Params, path []uint32) (*hdkeychain.ExtendedKey, error) {
	k, err := hdkeychain.NewMaster(seed, net)
	if err != nil {
		return nil, fmt.Errorf("bip32 master: %w", err)
	}
	for _, i := range path {
		child, err := k.Derive(i)
		k.Zero() // each level's private key and chain code is needed only for the next
		if err != nil {
			return nil, fmt.Errorf("bip32 derive: %w", err)
		}
		k = child
	}
	return k, nil
}

// DeriveSecp256k1 derives the private key at path from a seed, leaving no
// extended key behind. The version bytes do not matter for a key, so none are
// asked for.
func DeriveSecp256k1(seed []byte, path []uint32) (*btcec.PrivateKey, error) {
	k, err := DeriveBIP32(seed, &chaincfg.MainNetParams, path)
	if err != nil {
		return nil, err
	}
	defer k.Zero()
	priv, err := k.ECPrivKey()
	if err != nil {
		return nil, fmt.Errorf("bip32 private key: %w", err)
	}
	return priv, nil
}

// ChildSecp256k1 derives the private key at address index under a BIP-44
// account path (m/44'/coin'/0'/0), refusing an index outside 0..2^31-1. The
// account path is not written to.
func ChildSecp256k1(seed []byte, account []uint32, index uint32) (*btcec.PrivateKey, error) {
	if _, err := CheckIndex(uint64(index)); err != nil {
		return nil, err
	}
	return DeriveSecp256k1(seed, append(account[:len(account):len(account)], index))
}

// CheckIndex refuses an address index outside 0..2^31-1.
func CheckIndex(index uint64) (uint32, error) {
	if index > MaxIndex {
		return 0, fmt.Errorf("index %d out of range 0..%d", index, uint32(MaxIndex))
	}
	return uint32(index), nil
}

// KeccakAddress is the 20-byte Ethereum-style address of a secp256k1 public key
// (last 20 bytes of keccak256 of the uncompressed point without its 0x04 prefix),
// shared by the EVM chains, VET and TRON.
func KeccakAddress(pub *btcec.PublicKey) [20]byte {
	var xy [64]byte
	copy(xy[:], pub.SerializeUncompressed()[1:])
	return KeccakAddressXY(&xy)
}
