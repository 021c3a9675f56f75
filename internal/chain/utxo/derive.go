package utxo

import (
	"bytes"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"

	"github.com/custoskms/custos/internal/chain"
)

// accountPath is Tatum's account-level path: m/44'/coin'/0'/0, with coin 1 on
// testnet (145 for BCH, whose testnet keeps the mainnet path).
func (c *Chain) accountPath(testnet bool) []uint32 {
	coin := c.CoinType
	if testnet {
		coin = c.testnetCoinType
	}
	return []uint32{chain.Hardened + 44, chain.Hardened + coin, chain.Hardened + 0, 0}
}

func (c *Chain) account(seed []byte, testnet bool) (*hdkeychain.ExtendedKey, error) {
	return chain.DeriveBIP32(seed, c.params[netOf(testnet)], c.accountPath(testnet))
}

// XPub implements chain.Deriver.
func (c *Chain) XPub(seed []byte, testnet bool) (string, error) {
	k, err := c.account(seed, testnet)
	if err != nil {
		return "", err
	}
	pub, err := k.ECPubKey()
	if err != nil {
		return "", err
	}
	// Built by hand rather than with Neuter, which looks the public version up
	// in chaincfg's global registry where Litecoin's Ltpv/ttpv are not registered.
	var fp [4]byte
	fp[0], fp[1], fp[2], fp[3] = byte(k.ParentFingerprint()>>24), byte(k.ParentFingerprint()>>16), byte(k.ParentFingerprint()>>8), byte(k.ParentFingerprint())
	params := c.params[netOf(testnet)]
	x := hdkeychain.NewExtendedKey(params.HDPublicKeyID[:], pub.SerializeCompressed(), k.ChainCode(), fp[:], k.Depth(), k.ChildIndex(), false)
	return x.String(), nil
}

// parseXPub parses an xpub of c's network. Nothing is cached between calls
// (see the EVM chains' parseXPub).
func (c *Chain) parseXPub(xpub string, testnet bool) (*chain.XPubKey, error) {
	p, err := chain.ParseXPub(xpub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidXPub, err)
	}
	if !bytes.Equal(p.Version(), c.params[netOf(testnet)].HDPublicKeyID[:]) {
		want := chain.NetworkName(testnet)
		return nil, fmt.Errorf("%w: version bytes are not %s %s", ErrInvalidXPub, c.info.Code, want)
	}
	return p, nil
}

// AddressFromXPub implements chain.Deriver.
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
func (c *Chain) XPubAddresses(xpub string, testnet bool) (func(uint32) (string, error), error) {
	p, err := c.parseXPub(xpub, testnet)
	if err != nil {
		return nil, err
	}
	net := netOf(testnet)
	return func(index uint32) (string, error) {
		if _, err := chain.CheckIndex(uint64(index)); err != nil {
			return "", err
		}
		pt, err := p.ChildPoint(index)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalidXPub, err)
		}
		// The compressed key straight from the affine point: a PublicKey
		// value and its serialisation would be two allocations per address.
		var pub [33]byte
		pub[0] = 2
		if pt.Y.IsOdd() {
			pub[0] = 3
		}
		pt.X.PutBytesUnchecked(pub[1:])
		return c.hashAddress(btcutil.Hash160(pub[:]), net)
	}, nil
}

// AddressFromSeed implements chain.Deriver.
func (c *Chain) AddressFromSeed(seed []byte, index uint32, testnet bool) (string, error) {
	priv, err := chain.ChildSecp256k1(seed, c.accountPath(testnet), index)
	if err != nil {
		return "", err
	}
	defer priv.Zero()
	return c.Address(priv.PubKey(), netOf(testnet))
}

// PrivateKey implements chain.Deriver: a compressed WIF, as Tatum prints it.
func (c *Chain) PrivateKey(seed []byte, index uint32, testnet bool) (string, error) {
	priv, err := chain.ChildSecp256k1(seed, c.accountPath(testnet), index)
	if err != nil {
		return "", err
	}
	return c.formatWIF(priv, testnet)
}

// AddressFromPrivateKey implements chain.Deriver.
//
// For BTC it returns the P2WPKH (bc1q/tb1q) address of the key, not the legacy
// P2PKH address Tatum's generateAddressFromPrivatekey prints: every other BTC
// address of a Tatum wallet (generateAddressFromXPub, the xpub's addresses
// that deposits go to, the inputs Tatum's own transactions spend) is P2WPKH,
// so a private-key wallet shown in P2PKH form would name an address its
// mnemonic twin never uses. LegacyAddressFromPrivateKey gives Tatum's form.
func (c *Chain) AddressFromPrivateKey(key string, testnet bool) (string, error) {
	priv, compressed, err := c.decodeWIF(key, testnet)
	if err != nil {
		return "", err
	}
	defer priv.Zero()
	if !compressed && c.style == styleP2WPKH {
		// A P2WPKH address of an uncompressed key is unspendable.
		return c.LegacyAddressFromPrivateKey(key, testnet)
	}
	return c.Address(priv.PubKey(), netOf(testnet))
}

// LegacyAddressFromPrivateKey is the P2PKH address of a WIF key, which is what
// Tatum's generateAddressFromPrivatekey prints for BTC (and for LTC and DOGE,
// where it equals AddressFromPrivateKey). For BCH it is the CashAddr form.
func (c *Chain) LegacyAddressFromPrivateKey(key string, testnet bool) (string, error) {
	priv, compressed, err := c.decodeWIF(key, testnet)
	if err != nil {
		return "", err
	}
	defer priv.Zero()
	h := btcutil.Hash160(serializePub(priv.PubKey(), compressed))
	if c.style == styleCashAddr {
		return cashEncode(c.cashPrefix[netOf(testnet)], cashP2PKH, h), nil
	}
	a, err := btcutil.NewAddressPubKeyHash(h, c.params[netOf(testnet)])
	if err != nil {
		return "", err
	}
	return a.EncodeAddress(), nil
}

func serializePub(p *btcec.PublicKey, compressed bool) []byte {
	if compressed {
		return p.SerializeCompressed()
	}
	return p.SerializeUncompressed()
}

// decodeWIF parses a WIF private key of this chain and network. Errors never
// quote the key.
func (c *Chain) decodeWIF(key string, testnet bool) (*btcec.PrivateKey, bool, error) {
	w, err := btcutil.DecodeWIF(key)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %s: not a WIF private key", chain.ErrInvalidKey, c.info.Code)
	}
	if !w.IsForNet(c.params[netOf(testnet)]) {
		return nil, false, fmt.Errorf("%w: %s: WIF key is not for %s", chain.ErrInvalidKey, c.info.Code, netOf(testnet))
	}
	return w.PrivKey, w.CompressPubKey, nil
}

// formatWIF renders a key as a compressed WIF of this chain and network, and
// zeroes the key.
func (c *Chain) formatWIF(priv *btcec.PrivateKey, testnet bool) (string, error) {
	defer priv.Zero()
	w, err := btcutil.NewWIF(priv, c.params[netOf(testnet)], true)
	if err != nil {
		return "", err
	}
	return w.String(), nil
}

// GeneratePrivateKey implements chain.Deriver: a random compressed WIF key.
func (c *Chain) GeneratePrivateKey(rand io.Reader, testnet bool) (string, error) {
	priv, err := chain.RandomSecp256k1(rand)
	if err != nil {
		return "", err
	}
	return c.formatWIF(priv, testnet)
}

// Address is the address Tatum shows for a public key on network n: P2WPKH for
// BTC, P2PKH for LTC and DOGE, CashAddr P2PKH for BCH.
func (c *Chain) Address(pub *btcec.PublicKey, n Network) (string, error) {
	return c.hashAddress(btcutil.Hash160(pub.SerializeCompressed()), n)
}

// hashAddress is Address from the HASH160 of the compressed public key.
func (c *Chain) hashAddress(h []byte, n Network) (string, error) {
	switch c.style {
	case styleP2WPKH:
		// Witness version 0 and the 20-byte program in bech32, encoded here
		// because btcutil's EncodeAddress decodes every address it has just
		// encoded to check it, which costs a tenth of an address from an xpub.
		prog, err := bech32.ConvertBits(h, 8, 5, true)
		if err != nil {
			return "", err
		}
		return bech32.Encode(c.params[n].Bech32HRPSegwit, append([]byte{0}, prog...))
	case styleCashAddr:
		return cashEncode(c.cashPrefix[n], cashP2PKH, h), nil
	default:
		a, err := btcutil.NewAddressPubKeyHash(h, c.params[n])
		if err != nil {
			return "", err
		}
		return a.EncodeAddress(), nil
	}
}
