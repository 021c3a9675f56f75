package pending

import (
	"encoding/json"
	"fmt"
	"math"
)

// StoredSeq checks that a sequence fits the stores' signed 64-bit columns.
// (XLM's sequence numbers are int64 themselves, EVM nonces stay far below.)
func StoredSeq(seq uint64) (int64, error) {
	if seq > math.MaxInt64 {
		return 0, fmt.Errorf("sequence %d is above the largest the store keeps (%d)", seq, int64(math.MaxInt64))
	}
	return int64(seq), nil
}

// NewHole builds a Hole from a stored row: its sequence key and number and
// its wallet fields as the stores keep them (hashes and signatures JSON).
func NewHole(seqKey string, seq int64, hashes string, idx *int64, sigs *string) (*Hole, error) {
	key, err := ParseSeqKey(seqKey)
	if err != nil {
		return nil, err
	}
	h := &Hole{Key: key, Seq: uint64(seq)}
	if err := json.Unmarshal([]byte(hashes), &h.Hashes); err != nil {
		return nil, fmt.Errorf("stored hashes: %w", err)
	}
	if idx != nil {
		v := uint32(*idx)
		h.Index = &v
	}
	if sigs != nil {
		if err := json.Unmarshal([]byte(*sigs), &h.Signatures); err != nil {
			return nil, fmt.Errorf("stored signatures: %w", err)
		}
	}
	return h, nil
}
