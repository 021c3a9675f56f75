// Package tron implements TRON: secp256k1 keys with base58check T… addresses.
package tron

import (
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/custoskms/custos/internal/chain"
)

// Chain is the TRON chain.
type Chain struct {
	info chain.Info
	// Tatum derives TRON on the mainnet path for testnet wallets too.
	chain.HDSecp256k1
}

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// TRON is the registered chain value.
var TRON = &Chain{
	info: chain.Info{Code: "TRON", Slug: "tron", Kind: chain.MnemonicWallet},
	HDSecp256k1: chain.HDSecp256k1{
		MainPath:  chain.MustPath("m/44'/195'/0'/0"),
		TestPath:  chain.MustPath("m/44'/195'/0'/0"),
		Address:   func(pub *btcec.PublicKey, _ bool) string { return Address(pub) },
		FormatKey: chain.HexKey,
		ParseKey:  func(s string) (*btcec.PrivateKey, error) { return chain.ParseHexKey(s, false) },
	},
}

var _ chain.Deriver = (*Chain)(nil)

// addressPrefix is the version byte of every TRON address (mainnet and testnets).
const addressPrefix = 0x41

// Address is the base58check T… address of a public key: 0x41 ‖ keccak address.
func Address(pub *btcec.PublicKey) string {
	a := chain.KeccakAddress(pub)
	return base58.CheckEncode(a[:], addressPrefix)
}
