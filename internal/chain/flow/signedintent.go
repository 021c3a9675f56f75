package flow

import (
	"encoding/hex"
	"slices"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.SignedIntender = (*Chain)(nil)

// signatureSize is the r ‖ s of an ECDSA signature on either curve Flow
// account keys use (P-256, secp256k1), which is all Flow takes.
const signatureSize = 64

// SignedIntent implements chain.SignedIntender on the REST transaction JSON
// Sign returns (signatures added, "signer" removed), decoded as Intent
// decodes the queued one. Signers are the accounts that have signed it
// (payload or envelope), in Flow's signer order. Those signatures cannot be
// verified here: a Flow account's keys are in the chain's state, not in the
// transaction, and an ECDSA signature without a recovery id names no key;
// the node checks them against the accounts' keys. So a changed signature
// is not refused here, while a changed script, argument, gas limit,
// sequence or signing account changes the intent.
func (c *Chain) SignedIntent(txData string, testnet bool, _ ...uint64) (intent.Intent, error) {
	tx, _, err := ParseTx(txData)
	if err != nil {
		return intent.Intent{}, err
	}
	if tx.Signer != nil {
		return intent.Intent{}, chain.InvalidTx(`a signed FLOW transaction has no "signer" member`)
	}
	sigs := append(slices.Clone(tx.PayloadSignatures), tx.EnvelopeSignatures...)
	if len(sigs) == 0 {
		return intent.Intent{}, chain.InvalidTx("FLOW transaction carries no signature")
	}
	for _, s := range sigs {
		if len(s.Signature) != signatureSize {
			return intent.Intent{}, chain.InvalidTx("a signature of account %x is not %d bytes", s.Address, signatureSize)
		}
	}
	in, err := c.intentOf(tx, testnet)
	if err != nil {
		return intent.Intent{}, err
	}
	in.Signers = []string{}
	for _, a := range tx.signers() {
		if slices.ContainsFunc(sigs, func(s Signature) bool { return s.Address == a }) {
			in.Signers = append(in.Signers, "0x"+hex.EncodeToString(a[:]))
		}
	}
	return in, nil
}
