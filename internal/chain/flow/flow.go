// Package flow implements Flow: secp256k1 keys whose public key is Tatum's "address".
package flow

import (
	"encoding/hex"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/custoskms/custos/internal/chain"
)

// Chain is the FLOW chain.
type Chain struct {
	info chain.Info
	chain.HDSecp256k1
}

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// FLOW is the registered chain value. Tatum derives FLOW on the mainnet path
// for testnet wallets too.
var FLOW = &Chain{
	info: chain.Info{Code: "FLOW", Slug: "flow", Kind: chain.MnemonicWallet},
	HDSecp256k1: chain.HDSecp256k1{
		MainPath:  chain.MustPath("m/44'/539'/0'/0"),
		TestPath:  chain.MustPath("m/44'/539'/0'/0"),
		Address:   func(pub *btcec.PublicKey, _ bool) string { return PublicKeyHex(pub) },
		FormatKey: FormatKey,
		// Tatum prints keys without leading zeros, so shorter keys come back as input.
		ParseKey: func(s string) (*btcec.PrivateKey, error) { return chain.ParseHexKey(s, true) },
	},
}

var _ chain.Deriver = (*Chain)(nil)

// PublicKeyHex is what Tatum calls a FLOW "address": the uncompressed public
// key without its 04 prefix, 128 hex digits. Flow accounts are created on chain
// and hold this key; the account address itself is not derivable from it.
func PublicKeyHex(pub *btcec.PublicKey) string {
	return hex.EncodeToString(pub.SerializeUncompressed()[1:])
}

// FormatKey renders a key as Tatum does (bignum toString(16)): hex with
// leading zero digits stripped, so ~1 key in 16 has fewer than 64 digits.
func FormatKey(k *btcec.PrivateKey) string {
	return strings.TrimLeft(chain.HexKey(k), "0")
}
