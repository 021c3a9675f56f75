package egld

import (
	"encoding/hex"
	"math/big"
	"regexp"
	"strings"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Intender = (*Chain)(nil)

// callData is a MultiversX call in a data field: a function name, then
// arguments in hex, separated by @.
var callData = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)((?:@[0-9a-fA-F]*)+)$`)

// Intent implements chain.Intender on the transaction Sign signs (ParseTx,
// then the same chainID check):
//   - Signers: the sender; none for a Tatum transaction without "from" (the
//     key decides, as in Sign).
//   - Transfers: the value to the receiver in the smallest unit (10^-18
//     EGLD) when it is not zero; an "ESDTTransfer@token@amount" data field
//     as a transfer of amount units of the ESDT token (Asset = its
//     identifier) to the receiver.
//   - Calls: a data field of the form function@args, with the receiver as
//     Contract, the function as Method and the data text as Data (an
//     ESDTTransfer with more than token and amount calls the receiver).
//   - Memo: the data field as text (hex when it is not printable).
//   - Fee: gasLimit × gasPrice, the most the sender pays; Sequence: nonce;
//     ChainID: chainID.
func (c *Chain) Intent(serialized string, testnet bool, _ ...uint64) (intent.Intent, error) {
	tx, err := ParseTx(serialized)
	if err != nil {
		return intent.Intent{}, err
	}
	if err := checkNetwork(tx.ChainID, testnet); err != nil {
		return intent.Intent{}, err
	}
	in := intent.Intent{Chain: c.info.Code, Network: chain.NetworkName(testnet), ChainID: tx.ChainID, Signers: []string{}, Transfers: []intent.Transfer{}}
	if tx.Sender != "" {
		in.Signers = append(in.Signers, tx.Sender)
	}
	if tx.Value.Sign() != 0 {
		in.Transfers = append(in.Transfers, intent.Transfer{To: tx.Receiver, Amount: tx.Value.String()})
	}
	gp, gl := new(big.Int).SetUint64(tx.GasPrice), new(big.Int).SetUint64(tx.GasLimit)
	in.Fee = &intent.Fee{Max: new(big.Int).Mul(gp, gl).String(), GasPrice: gp.String(), GasLimit: gl.String()}
	nonce := tx.Nonce
	in.Sequence = &nonce
	in.Memo = chain.MemoText(tx.Data)
	if m := callData.FindSubmatch(tx.Data); m != nil {
		args := strings.Split(string(m[2][1:]), "@")
		fn := string(m[1])
		if fn == "ESDTTransfer" && len(args) >= 2 {
			token, _ := hex.DecodeString(args[0])
			amount, ok := new(big.Int).SetString(args[1], 16)
			if len(token) > 0 && ok && chain.MemoText(token) == string(token) {
				in.Transfers = append(in.Transfers, intent.Transfer{To: tx.Receiver, Amount: amount.String(), Asset: string(token)})
				if len(args) == 2 {
					return in, nil
				}
			}
		}
		in.Calls = append(in.Calls, intent.Call{Contract: tx.Receiver, Method: fn, Data: string(tx.Data)})
	}
	return in, nil
}
