package flow

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Intender = (*Chain)(nil)

// Intent implements chain.Intender on the native transaction Sign signs
// (ParseTx; a transaction without "signer" and Tatum's {type, body} form
// are refused, as Sign refuses them):
//   - Signers: proposer, payer, then authorizers, each once, as 0x hex.
//   - Calls: one, the script and its arguments as the REST form carries
//     them (Data = JSON {"script": base64, "arguments": [base64 …]}), Method
//     "script" and no Contract: a Cadence script may touch any account's
//     contracts, so a FLOW transaction claims no transfer; what it moves is
//     what its script does, for the approver to read.
//   - Fee.GasLimit: gas_limit (the execution effort ceiling; Flow charges a
//     fee the node computes from it, so Max is left empty).
//   - Sequence: the proposal key's sequence number.
//
// A Flow transaction names its network only through its reference block:
// the intent names the wallet's.
func (c *Chain) Intent(serialized string, testnet bool, _ ...uint64) (intent.Intent, error) {
	tx, _, err := ParseTx(serialized)
	if err != nil {
		return intent.Intent{}, err
	}
	if tx.Signer == nil {
		return intent.Intent{}, chain.InvalidTx(`missing "signer" (the account address, key index and public key the wallet signs as)`)
	}
	return c.intentOf(tx, testnet)
}

// intentOf is the intent of a parsed transaction, signed or not.
func (c *Chain) intentOf(tx *Tx, testnet bool) (intent.Intent, error) {
	in := intent.Intent{Chain: c.info.Code, Network: chain.NetworkName(testnet), Signers: []string{}, Transfers: []intent.Transfer{}}
	for _, a := range tx.signers() {
		in.Signers = append(in.Signers, "0x"+hex.EncodeToString(a[:]))
	}
	args := make([]string, len(tx.Arguments))
	for i, a := range tx.Arguments {
		args[i] = base64.StdEncoding.EncodeToString(a)
	}
	data, err := json.Marshal(struct {
		Script    string   `json:"script"`
		Arguments []string `json:"arguments"`
	}{base64.StdEncoding.EncodeToString(tx.Script), args})
	if err != nil {
		return intent.Intent{}, err
	}
	in.Calls = []intent.Call{{Method: "script", Data: string(data)}}
	in.Fee = &intent.Fee{GasLimit: strconv.FormatUint(tx.GasLimit, 10)}
	seq := tx.ProposalSequence
	in.Sequence = &seq
	return in, nil
}
