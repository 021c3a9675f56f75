package evm

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Deriver = (*Chain)(nil)

// testnetCoin is the coin type of Tatum's TESTNET_DERIVATION_PATH m/44'/1'/0'/0,
// which every EVM chain uses on testnet.
const testnetCoin = 1

// xpubNet supplies the version bytes of the serialized xpub. Tatum keeps the
// mainnet "xpub" prefix for EVM chains on testnet too, so both networks use it.
var xpubNet = &chaincfg.MainNetParams

func (c *Chain) accountPath(testnet bool) []uint32 {
	coin := c.CoinType
	if testnet {
		coin = testnetCoin
	}
	return []uint32{chain.Hardened + 44, chain.Hardened + coin, chain.Hardened, 0}
}

// FormatAddress shows a 20-byte address the way Tatum does for this chain:
// lowercase hex behind the chain's prefix ("0x", or "xdc" for XDC).
func (c *Chain) FormatAddress(a [20]byte) string {
	var b [43]byte
	n := copy(b[:], c.AddressPrefix)
	hex.Encode(b[n:], a[:])
	return string(b[:n+40])
}

// ParseAddress accepts an address with "0x" or the chain's own prefix, in any
// letter case, and returns its 20 bytes.
func (c *Chain) ParseAddress(s string) ([20]byte, error) {
	var a [20]byte
	body, ok := strings.CutPrefix(s, "0x")
	if !ok && c.AddressPrefix != "0x" {
		body, ok = strings.CutPrefix(strings.ToLower(s), c.AddressPrefix)
	}
	if !ok || len(body) != 40 {
		return a, fmt.Errorf("address %q: want %s followed by 40 hex digits", s, c.AddressPrefix)
	}
	if _, err := hex.Decode(a[:], []byte(body)); err != nil {
		return a, fmt.Errorf("address %q: not hex", s)
	}
	return a, nil
}

// XPub implements chain.Deriver.
func (c *Chain) XPub(seed []byte, testnet bool) (string, error) {
	k, err := chain.DeriveBIP32(seed, xpubNet, c.accountPath(testnet))
	if err != nil {
		return "", err
	}
	pub, err := k.Neuter()
	if err != nil {
		return "", fmt.Errorf("bip32 neuter: %w", err)
	}
	return pub.String(), nil
}

// AddressFromXPub implements chain.Deriver. The testnet flag does not change
// anything here: the path is already fixed by the xpub.
func (c *Chain) AddressFromXPub(xpub string, index uint32, testnet bool) (string, error) {
	if _, err := chain.CheckIndex(uint64(index)); err != nil {
		return "", err
	}
	addr, err := c.XPubAddresses(xpub, testnet)
	if err != nil {
		return "", err
	}
	return addr(index)
}

// XPubAddresses implements chain.XPubAddresser.
func (c *Chain) XPubAddresses(xpub string, _ bool) (func(uint32) (string, error), error) {
	p, err := parseXPub(xpub)
	if err != nil {
		return nil, err
	}
	return func(index uint32) (string, error) {
		if _, err := chain.CheckIndex(uint64(index)); err != nil {
			return "", err
		}
		a, err := childAddress(p, index)
		if err != nil {
			return "", err
		}
		return c.FormatAddress(a), nil
	}, nil
}

// AddressFromSeed implements chain.Deriver.
func (c *Chain) AddressFromSeed(seed []byte, index uint32, testnet bool) (string, error) {
	priv, err := chain.ChildSecp256k1(seed, c.accountPath(testnet), index)
	if err != nil {
		return "", err
	}
	defer priv.Zero()
	return c.FormatAddress(chain.KeccakAddress(priv.PubKey())), nil
}

// PrivateKey implements chain.Deriver: "0x" and 64 lowercase hex digits, as
// Tatum prints EVM keys (XDC included).
func (c *Chain) PrivateKey(seed []byte, index uint32, testnet bool) (string, error) {
	priv, err := chain.ChildSecp256k1(seed, c.accountPath(testnet), index)
	if err != nil {
		return "", err
	}
	defer priv.Zero()
	return formatKey(priv), nil
}

func formatKey(priv *btcec.PrivateKey) string {
	return "0x" + chain.HexKey(priv)
}

// ParsePrivateKey reads a private key in Tatum's form ("0x" + 64 hex digits;
// the "0x" may be left out) and refuses a scalar outside 1..n-1. The error never
// quotes the key.
func ParsePrivateKey(key string) (*btcec.PrivateKey, error) {
	body := strings.TrimPrefix(strings.TrimSpace(key), "0x")
	if len(body) != 64 {
		return nil, fmt.Errorf("%w: want 0x and 64 hex digits, got %d characters", chain.ErrInvalidKey, len(key))
	}
	return chain.ParseHexKey(body, false)
}

// AddressFromPrivateKey implements chain.Deriver.
func (c *Chain) AddressFromPrivateKey(key string, _ bool) (string, error) {
	priv, err := ParsePrivateKey(key)
	if err != nil {
		return "", err
	}
	defer priv.Zero()
	return c.FormatAddress(chain.KeccakAddress(priv.PubKey())), nil
}

var _ chain.KeyBatchGenerator = (*Chain)(nil)

// GenerateKeys implements chain.KeyBatchGenerator: len(keys) random keys in
// GeneratePrivateKey's form and their addresses.
func (c *Chain) GenerateKeys(rand io.Reader, _ bool, keys, addrs []string) error {
	if len(addrs) != len(keys) {
		return fmt.Errorf("generate keys: %d keys, %d addresses", len(keys), len(addrs))
	}
	privs := make([]*btcec.PrivateKey, len(keys))
	defer func() {
		for _, p := range privs {
			if p != nil {
				p.Zero()
			}
		}
	}()
	for i := range privs {
		p, err := chain.RandomSecp256k1(rand)
		if err != nil {
			return err
		}
		privs[i] = p
	}
	pts := make([]btcec.JacobianPoint, len(privs))
	if err := chain.PublicPoints(privs, pts); err != nil {
		return err
	}
	for i, p := range privs {
		keys[i] = formatKey(p)
		addrs[i] = c.FormatAddress(pointAddress(&pts[i]))
	}
	return nil
}

// GeneratePrivateKey implements chain.Deriver.
func (c *Chain) GeneratePrivateKey(rand io.Reader, _ bool) (string, error) {
	priv, err := chain.RandomSecp256k1(rand)
	if err != nil {
		return "", err
	}
	defer priv.Zero()
	return formatKey(priv), nil
}
