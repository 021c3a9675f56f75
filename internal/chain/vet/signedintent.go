package vet

import (
	"bytes"
	"encoding/hex"
	"strings"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.SignedIntender = (*Chain)(nil)

// SignedIntent implements chain.SignedIntender on the 0x-hex signed RLP Sign
// returns: the body without its signature is decoded as Intent decodes a
// native one (canonical RLP, the wallet network's chainTag, no fee
// delegation), and Signers is the origin recovered from the signature over
// the body's signing hash, as Thor recovers it. The whole transaction must
// be canonical RLP too, so that the decoded body is the one the node reads.
func (c *Chain) SignedIntent(txData string, testnet bool, _ ...uint64) (intent.Intent, error) {
	h, ok := strings.CutPrefix(txData, "0x")
	if !ok {
		return intent.Intent{}, chain.InvalidTx("signed VET transaction is not 0x-hex RLP")
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		return intent.Intent{}, chain.InvalidTx("signed VET transaction is not hex")
	}
	s, _, origin, err := decodeSigned(raw)
	if err != nil {
		return intent.Intent{}, err
	}
	if again, err := rlp.EncodeToBytes(s); err != nil || !bytes.Equal(again, raw) {
		return intent.Intent{}, chain.InvalidTx("signed VET transaction is not canonical RLP")
	}
	unsigned, err := rlp.EncodeToBytes(s.body())
	if err != nil {
		return intent.Intent{}, chain.InvalidTx("VET transaction body: %v", err)
	}
	in, err := c.Intent("0x"+hex.EncodeToString(unsigned), testnet)
	if err != nil {
		return intent.Intent{}, err
	}
	in.Signers = []string{"0x" + hex.EncodeToString(origin[:])}
	return in, nil
}
