package tron

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.SignedIntender = (*Chain)(nil)

// SignedIntent implements chain.SignedIntender on the signed transaction
// JSON Sign returns: without its signature member it is decoded as Intent
// decodes the queued one (raw_data_hex, in agreement with raw_data and
// txID), and Signers are the accounts recovered from each signature over
// txID = sha256(raw_data_hex), base58 T…, rather than the owners the
// transaction names: an account with several keys (TRON permissions) signs
// with a key whose address is not the owner's. A signature that recovers no
// key is refused.
func (c *Chain) SignedIntent(txData string, testnet bool, _ ...uint64) (intent.Intent, error) {
	members, err := orderedObject(txData)
	if err != nil {
		return intent.Intent{}, err
	}
	i := slices.IndexFunc(members, func(m member) bool { return m.key == "signature" })
	if i < 0 {
		return intent.Intent{}, chain.InvalidTx(`missing "signature"`)
	}
	var sigs []string
	if json.Unmarshal(members[i].value, &sigs) != nil || len(sigs) == 0 {
		return intent.Intent{}, chain.InvalidTx(`"signature" is not a list of hex signatures`)
	}
	p, err := prepare(string(encodeObject(slices.Delete(members, i, i+1))))
	if err != nil {
		return intent.Intent{}, err
	}
	in, err := c.intentOf(p, testnet)
	if err != nil {
		return intent.Intent{}, err
	}
	id := sha256.Sum256(p.raw)
	in.Signers = []string{}
	for n, s := range sigs {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 65 {
			return intent.Intent{}, chain.InvalidTx("signature %d is not 65 bytes of hex", n)
		}
		// TronWeb writes the recovery id as 27/28 (1B/1C) or 0/1 after r ‖ s.
		v := b[64]
		if v >= 27 {
			v -= 27
		}
		if v > 1 {
			return intent.Intent{}, chain.InvalidTx("signature %d has no recovery id", n)
		}
		pub, err := chain.RecoverSecp256k1(&id, (*[32]byte)(b[:32]), (*[32]byte)(b[32:64]), v)
		if err != nil {
			return intent.Intent{}, chain.InvalidTx("signature %d recovers no key", n)
		}
		if a := showAddress(prefixed(chain.KeccakAddressXY(&pub))); !slices.Contains(in.Signers, a) {
			in.Signers = append(in.Signers, a)
		}
	}
	return in, nil
}
