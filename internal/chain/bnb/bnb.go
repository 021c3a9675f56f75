// Package bnb implements BNB Beacon Chain (BNB): secp256k1 keypairs with bnb1… addresses; signing only, the chain is shut down.
package bnb

import (
	"io"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/custoskms/custos/internal/chain"
)

// Chain is the BNB chain. Wallets are random keys: Tatum derived nothing from
// a mnemonic for BNB.
type Chain struct {
	info chain.Info
	chain.NoMnemonic
}

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// BNB is the registered chain value.
var BNB = &Chain{
	info: chain.Info{Code: "BNB", Slug: "bnb", Kind: chain.KeypairWallet,
		ShutDown: "BNB Beacon Chain was shut down in 2024 (BNB Chain Fusion) and accepts no transactions"},
	NoMnemonic: chain.NoMnemonic{Code: "BNB"},
}

var _ chain.Deriver = (*Chain)(nil)

// HRP is the bech32 prefix of addresses on the network.
func HRP(testnet bool) string {
	if testnet {
		return "tbnb"
	}
	return "bnb"
}

// Address is the bech32 address (bnb1… / tbnb1…) of hash160 of the compressed key.
func Address(pub *btcec.PublicKey, testnet bool) string {
	return chain.Bech32Encode(HRP(testnet), btcutil.Hash160(pub.SerializeCompressed()))
}

// DecodeAddress returns the 20-byte account of an address of the network.
func DecodeAddress(s string, testnet bool) ([]byte, error) {
	return chain.Bech32Decode(s, HRP(testnet), 20)
}

// AddressFromPrivateKey implements chain.Deriver for a 64-hex key.
func (c *Chain) AddressFromPrivateKey(key string, testnet bool) (string, error) {
	k, err := chain.ParseHexKey(key, false)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return Address(k.PubKey(), testnet), nil
}

// GeneratePrivateKey implements chain.Deriver: a random key as 64 hex digits.
func (c *Chain) GeneratePrivateKey(rand io.Reader, _ bool) (string, error) {
	k, err := chain.RandomSecp256k1(rand)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return chain.HexKey(k), nil
}
