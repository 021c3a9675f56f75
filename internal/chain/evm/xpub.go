package evm

import (
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/custoskms/custos/internal/chain"
)

// parseXPub parses an xpub for derivation. Nothing is cached between calls:
// a parse (base58, checksum, the parent point's square root) costs a few
// microseconds next to a child's multiplication, and a cache would be state
// shared by every caller in the process.
func parseXPub(xpub string) (*chain.XPubKey, error) {
	p, err := chain.ParseXPub(xpub)
	if err != nil {
		return nil, fmt.Errorf("xpub: %w", err)
	}
	return p, nil
}

// childAddress is BIP-32 public child derivation (CKDpub, non-hardened index)
// followed by the keccak address of the child point, hashed from the affine
// coordinates directly (no public key value in between).
func childAddress(p *chain.XPubKey, index uint32) ([20]byte, error) {
	child, err := p.ChildPoint(index)
	if err != nil {
		return [20]byte{}, err
	}
	return pointAddress(&child), nil
}

// pointAddress is the keccak address of an affine point (Z = 1, normalized).
func pointAddress(pt *btcec.JacobianPoint) [20]byte {
	var xy [64]byte
	pt.X.PutBytesUnchecked(xy[:32])
	pt.Y.PutBytesUnchecked(xy[32:])
	return chain.KeccakAddressXY(&xy)
}
