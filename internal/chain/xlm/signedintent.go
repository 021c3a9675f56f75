package xlm

import (
	"bytes"
	"crypto/ed25519"

	"github.com/stellar/go-stellar-sdk/network"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.SignedIntender = (*Chain)(nil)

// SignedIntent implements chain.SignedIntender on the base64 signed
// envelope Sign returns, decoded as Intent decodes the unsigned one. A
// Stellar signature names its signer only by a 4-byte hint, which many keys
// share, so the signer is not read from the signatures: the envelope must
// carry a signature, hinted and verifying, by the account Sign signs as (the
// source account, or a fee bump's fee source) over the transaction hash on
// the wallet's network, and Signers are then Intent's, that account first.
// Signatures of other accounts (an operation's own source) are the
// network's to check against their signer lists. A signature that verifies
// only under the other network's passphrase is ErrWrongNetwork.
func (c *Chain) SignedIntent(txData string, testnet bool, _ ...uint64) (intent.Intent, error) {
	env, err := parseEnvelope(txData)
	if err != nil {
		return intent.Intent{}, err
	}
	if err := incomplete(env); err != nil {
		return intent.Intent{}, err
	}
	signer := env.FeeAccount().ToAccountId()
	pub := ed25519.PublicKey(signer.Ed25519[:])
	signedOn := func(testnet bool) (bool, error) {
		hash, err := network.HashTransactionInEnvelope(env, Passphrase(testnet))
		if err != nil {
			return false, chain.InvalidTx("cannot hash the transaction: %s", err.Error())
		}
		for _, s := range *outerSignatures(&env) {
			if bytes.Equal(s.Hint[:], pub[len(pub)-4:]) && ed25519.Verify(pub, hash[:], s.Signature) {
				return true, nil
			}
		}
		return false, nil
	}
	ok, err := signedOn(testnet)
	if err != nil {
		return intent.Intent{}, err
	}
	if !ok {
		if other, _ := signedOn(!testnet); other {
			return intent.Intent{}, chain.WrongNetwork("the signature of %s is for the %s", Address(pub), chain.NetworkName(!testnet))
		}
		return intent.Intent{}, chain.InvalidTx("no signature of %s verifies", Address(pub))
	}
	return c.intentOf(env, testnet), nil
}
