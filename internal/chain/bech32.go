package chain

import (
	"fmt"

	"github.com/btcsuite/btcd/btcutil/bech32"
)

// Bech32Encode renders data (8-bit bytes) as a BIP-173 bech32 string with hrp,
// the address form of EGLD (erd1…) and BNB (bnb1…).
func Bech32Encode(hrp string, data []byte) string {
	five, err := bech32.ConvertBits(data, 8, 5, true)
	if err != nil {
		panic("bech32: " + err.Error()) // 8→5 with padding cannot fail
	}
	s, err := bech32.Encode(hrp, five)
	if err != nil {
		panic("bech32: " + err.Error()) // only for hrp or length beyond the limits
	}
	return s
}

// Bech32Decode reads a bech32 string whose prefix must be hrp and whose
// payload must be size bytes.
func Bech32Decode(s, hrp string, size int) ([]byte, error) {
	h, five, err := bech32.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("bech32: %w", err)
	}
	if h != hrp {
		return nil, fmt.Errorf("bech32: prefix %q, want %q", h, hrp)
	}
	data, err := bech32.ConvertBits(five, 5, 8, false)
	if err != nil {
		return nil, fmt.Errorf("bech32: %w", err)
	}
	if len(data) != size {
		return nil, fmt.Errorf("bech32: payload of %d bytes, want %d", len(data), size)
	}
	return data, nil
}
