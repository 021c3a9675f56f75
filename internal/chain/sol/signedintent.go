package sol

import (
	"crypto/ed25519"
	"encoding/base64"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.SignedIntender = (*Chain)(nil)

// SignedIntent implements chain.SignedIntender on the base64 wire
// transaction Sign returns (compact-u16 signature count, the signatures, the
// message): the message is decoded as Intent decodes it, after every
// required signer's ed25519 signature has been verified over the message
// bytes, so the Signers it names (the required signers, fee payer first) are
// the accounts whose keys signed. A transaction with a signature missing or
// not verifying is refused.
func (c *Chain) SignedIntent(txData string, testnet bool, _ ...uint64) (intent.Intent, error) {
	wire, err := base64.StdEncoding.DecodeString(txData)
	if err != nil {
		return intent.Intent{}, chain.InvalidTx("signed SOL transaction is not base64")
	}
	r := &reader{b: wire}
	n := r.compact()
	sigs := r.take(ed25519.SignatureSize * n)
	if r.err != nil {
		return intent.Intent{}, chain.InvalidTx("signed SOL transaction: %s", r.err.Error())
	}
	raw := r.b
	msg, err := parseMessage(raw)
	if err != nil {
		return intent.Intent{}, chain.InvalidTx("Solana message: %s", err.Error())
	}
	if n != msg.required {
		return intent.Intent{}, chain.InvalidTx("%d signatures for %d required signers", n, msg.required)
	}
	for i, k := range msg.keys[:msg.required] {
		if !ed25519.Verify(k, raw, sigs[ed25519.SignatureSize*i:ed25519.SignatureSize*(i+1)]) {
			return intent.Intent{}, chain.InvalidTx("signature %d does not verify with signer %s", i, Address(k))
		}
	}
	return c.Intent(base64.StdEncoding.EncodeToString(raw), testnet)
}
