// Package vet implements VeChain Thor (VET): secp256k1 keys, blake2b transaction hashing.
package vet

import (
	"encoding/hex"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/custoskms/custos/internal/chain"
)

// Chain is the VET chain.
type Chain struct {
	info chain.Info
	chain.HDSecp256k1
}

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// VET is the registered chain value.
var VET = &Chain{
	info: chain.Info{Code: "VET", Slug: "vet", Kind: chain.MnemonicWallet},
	HDSecp256k1: chain.HDSecp256k1{
		MainPath:  chain.MustPath("m/44'/818'/0'/0"),
		TestPath:  chain.MustPath("m/44'/1'/0'/0"),
		Address:   func(pub *btcec.PublicKey, _ bool) string { return Address(pub) },
		FormatKey: func(k *btcec.PrivateKey) string { return "0x" + chain.HexKey(k) },
		ParseKey:  func(s string) (*btcec.PrivateKey, error) { return chain.ParseHexKey(s, false) },
	},
}

var _ chain.Deriver = (*Chain)(nil)

// Address is the 0x-prefixed lowercase address Tatum shows (Ethereum's form, no checksum case).
func Address(pub *btcec.PublicKey) string {
	a := chain.KeccakAddress(pub)
	return "0x" + hex.EncodeToString(a[:])
}
