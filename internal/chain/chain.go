// Package chain owns the contract every supported blockchain implements and the
// helpers they share (BIP-32/BIP-44, SLIP-10, secp256k1, ed25519). A chain is one
// package under internal/chain that registers its values in internal/chain/chains.
//
// The required interface is deliberately small (Info). What a chain can do beyond
// that is found by type assertion on the optional capabilities declared beside
// it (key derivation, transaction validation, signing), so a chain package can
// grow one capability at a time.
package chain

import (
	"errors"
	"fmt"
)

// WalletKind says what `generatewallet` produces for a chain.
type WalletKind int

const (
	// MnemonicWallet chains keep a BIP-39 mnemonic and derive keys by index.
	MnemonicWallet WalletKind = iota
	// KeypairWallet chains (XLM, XRP, BNB) keep a single random keypair.
	KeypairWallet
)

// Info names a chain the way Tatum does.
type Info struct {
	Code string     // Tatum currency code: "ETH", "BTC", …
	Slug string     // Tatum broadcast slug: "ethereum", "bitcoin", …
	Kind WalletKind // what a generated wallet holds
}

// Chain is the one interface every chain implements.
type Chain interface {
	Info() Info
}

// Codes lists the Tatum currency codes Custos serves, in the order of the API's enum.
var Codes = []string{"BNB", "BTC", "ETH", "XLM", "XRP", "BCH", "LTC", "DOGE", "VET", "BSC",
	"MATIC", "CELO", "FLOW", "TRON", "ONE", "XDC", "EGLD", "KLAY", "SOL"}

// ErrUnknownChain is returned for a currency code or slug that no chain serves.
var ErrUnknownChain = errors.New("unknown chain")

// UnknownChainError carries the name that was not found.
func UnknownChainError(name string) error {
	return fmt.Errorf("%w %q", ErrUnknownChain, name)
}
