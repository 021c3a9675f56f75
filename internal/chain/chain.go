// Package chain owns the contract every supported blockchain implements and the
// helpers they share (BIP-32/BIP-44, SLIP-10, secp256k1, ed25519). A chain is one
// package under internal/chain whose value declares its facts in Info and is one
// row of the table in internal/chain/chains, the only list of chains.
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
	// MnemonicKeyWallet chains (SOL) keep a BIP-39 mnemonic and, as Tatum's
	// wallet does, the address and private key of its index 0 instead of an xpub.
	MnemonicKeyWallet
)

// KeyField names the field of a Tatum wallet record that holds a keypair
// wallet's key.
type KeyField int

const (
	// PrivateKeyField is "privateKey", Tatum's field for most chains.
	PrivateKeyField KeyField = iota
	// SecretField is "secret", Tatum's field for the XLM and XRP keypairs.
	SecretField
)

// Info is what the rest of the program asks about a chain. Each chain package
// declares its own, so that adding a chain adds no list elsewhere: the API's
// enums, the wallet format and the daemon's key resolution all read it.
type Info struct {
	Code string     // Tatum currency code: "ETH", "BTC", …
	Slug string     // Tatum broadcast slug: "ethereum", "bitcoin", …
	Kind WalletKind // what a generated wallet holds
	// KeyField is where a generated keypair wallet keeps its key.
	KeyField KeyField
	// MultiKey chains sign with a key per hashes[] entry (UTXO inputs; SOL's
	// signers in account order); the others with the wallet of hashes[0] alone.
	MultiKey bool
	// ShutDown, when set, says why the chain's network accepts no transactions
	// any more: signing still works (records, format compatibility), but the
	// server refuses every broadcast with this reason, node or no node.
	ShutDown string
}

// NetworkName is how messages, logs, metrics and stored keys name a network:
// "mainnet" or "testnet".
func NetworkName(testnet bool) string {
	if testnet {
		return "testnet"
	}
	return "mainnet"
}

// Chain is the one interface every chain implements.
type Chain interface {
	Info() Info
}

// ErrUnknownChain is returned for a currency code or slug that no chain serves.
var ErrUnknownChain = errors.New("unknown chain")

// UnknownChainError carries the name that was not found.
func UnknownChainError(name string) error {
	return fmt.Errorf("%w %q", ErrUnknownChain, name)
}
