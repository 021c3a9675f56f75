package egld

import (
	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.SignedIntender = (*Chain)(nil)

// SignedIntent implements chain.SignedIntender on the signed gateway JSON
// Sign returns: the ed25519 signature must verify with the sender's key (an
// EGLD address is its public key) over the canonical signing JSON
// (ParseSigned), and the transaction is then decoded as Intent decodes the
// native form, the sender its one signer.
func (c *Chain) SignedIntent(txData string, testnet bool, _ ...uint64) (intent.Intent, error) {
	tx, err := ParseSigned(txData)
	if err != nil {
		return intent.Intent{}, err
	}
	return c.Intent(string(tx.SigningBytes()), testnet)
}
