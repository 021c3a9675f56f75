package bnb

import (
	"slices"
	"strconv"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Intender = (*Chain)(nil)

// nativeDenom is the Beacon Chain's own coin.
const nativeDenom = "BNB"

// Intent implements chain.Intender on the transfer Sign signs (the same
// parse and chain id check):
//   - Signers: the inputs' addresses, each once.
//   - Transfers: one per output and coin, in the coin's smallest unit
//     (10^-8); Asset is empty for BNB, as for every chain's native coin in
//     an intent, and the denomination for any other token ("BUSD-BD1").
//   - Sequence: sequence; ChainID: chain_id; Memo: memo.
//
// Fee is nil: the Beacon Chain charged a fixed fee per message type, which
// the transaction does not state.
func (c *Chain) Intent(serialized string, testnet bool, _ ...uint64) (intent.Intent, error) {
	t, err := parseOnNetwork(serialized, testnet)
	if err != nil {
		return intent.Intent{}, err
	}
	in := intent.Intent{Chain: c.info.Code, Network: chain.NetworkName(testnet), ChainID: t.ChainID, Signers: []string{}, Transfers: []intent.Transfer{}, Memo: t.Memo}
	hrp := HRP(testnet)
	for _, i := range t.Inputs {
		if a := chain.Bech32Encode(hrp, i.Address); !slices.Contains(in.Signers, a) {
			in.Signers = append(in.Signers, a)
		}
	}
	for _, o := range t.Outputs {
		to := chain.Bech32Encode(hrp, o.Address)
		for _, coin := range o.Coins {
			asset := coin.Denom
			if asset == nativeDenom {
				asset = ""
			}
			in.Transfers = append(in.Transfers, intent.Transfer{To: to, Amount: strconv.FormatInt(coin.Amount, 10), Asset: asset})
		}
	}
	seq := uint64(t.Sequence)
	in.Sequence = &seq
	return in, nil
}
