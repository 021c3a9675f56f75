package chain

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
)

// SLIP10Ed25519 derives the ed25519 private-key seed at path by SLIP-0010.
// ed25519 has no public child derivation, so every element must be hardened;
// SOL and EGLD (Tatum's paths) are hardened at every level.
func SLIP10Ed25519(seed []byte, path []uint32) ([]byte, error) {
	mac := hmac.New(sha512.New, []byte("ed25519 seed"))
	mac.Write(seed)
	i := mac.Sum(nil) // key ‖ chain code
	defer func() { clear(i) }()
	var data [37]byte
	defer clear(data[:])
	for _, idx := range path {
		if idx < Hardened {
			return nil, fmt.Errorf("slip10 ed25519: index %d is not hardened", idx)
		}
		// data = 0x00 || key || index (big endian)
		copy(data[1:33], i[:32])
		binary.BigEndian.PutUint32(data[33:], idx)
		mac = hmac.New(sha512.New, i[32:])
		mac.Write(data[:])
		next := mac.Sum(nil)
		clear(i)
		i = next
	}
	// A copy of the key alone, so that the chain code does not outlive the call.
	return append([]byte(nil), i[:32]...), nil
}
