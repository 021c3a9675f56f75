package chain

import "fmt"

// NoMnemonic is the mnemonic half of Deriver for keypair chains (XLM, XRP,
// BNB): every mnemonic method answers ErrKeypairWallet naming the chain.
type NoMnemonic struct{ Code string }

func (n NoMnemonic) err() error { return fmt.Errorf("%s: %w", n.Code, ErrKeypairWallet) }

// noXPub wraps both sentinels: callers asking for an xpub branch on ErrNoXPub.
func (n NoMnemonic) noXPub() error {
	return fmt.Errorf("%s: %w: %w", n.Code, ErrNoXPub, ErrKeypairWallet)
}

// XPub implements Deriver.
func (n NoMnemonic) XPub([]byte, bool) (string, error) { return "", n.noXPub() }

// AddressFromXPub implements Deriver.
func (n NoMnemonic) AddressFromXPub(string, uint32, bool) (string, error) { return "", n.noXPub() }

// AddressFromSeed implements Deriver.
func (n NoMnemonic) AddressFromSeed([]byte, uint32, bool) (string, error) { return "", n.err() }

// PrivateKey implements Deriver.
func (n NoMnemonic) PrivateKey([]byte, uint32, bool) (string, error) { return "", n.err() }
