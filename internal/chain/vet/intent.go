package vet

import (
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Intender = (*Chain)(nil)

// baseGasPrice is VeChain's base gas price in VTHO wei per unit of gas, the
// governance parameter (params contract, "base-gas-price") at its value
// since genesis.
var baseGasPrice = big.NewInt(1_000_000_000_000_000)

// Intent implements chain.Intender on the body Sign signs (the same parse and
// chainTag check; the Tatum form's from is not checked against a key here):
//   - Signers: the Tatum form's from when it names an address (lower case);
//     none otherwise, since a VeChain origin is whoever signs.
//   - Transfers: each clause's value in wei (VET) to its recipient; a clause
//     creating a contract has an empty To.
//   - Calls: each clause with data (Contract the recipient, Method the
//     4-byte selector as 0x hex, Data the 0x hex input).
//   - Fee: paid in VTHO, not VET: Max = gas × gas price, the gas price being
//     Thor's legacy formula base + base × gasPriceCoef / 255 (integer
//     division) at the base gas price of 10^15 VTHO wei; GasPrice that price,
//     GasLimit the body's gas.
//   - ChainID: the chainTag in decimal. The nonce is random, not a sequence.
func (c *Chain) Intent(serialized string, testnet bool, _ ...uint64) (intent.Intent, error) {
	b, err := parseBody(serialized, "", testnet)
	if err != nil {
		return intent.Intent{}, err
	}
	in := intent.Intent{
		Chain: c.info.Code, Network: chain.NetworkName(testnet), ChainID: strconv.Itoa(int(b.ChainTag)),
		Signers: []string{}, Transfers: []intent.Transfer{},
	}
	if chain.LooksLikeJSONObject(serialized) {
		o, _ := chain.ParseJSONObject(serialized)
		var from string
		if json.Unmarshal(o["from"], &from) == nil {
			a, ok := strings.CutPrefix(from, "0x")
			if !ok || len(a) != 40 || !chain.IsHex(a) {
				// Sign refuses it too: no key's address is spelled so.
				return intent.Intent{}, chain.InvalidTx(`"from" is not a 0x address`)
			}
			in.Signers = append(in.Signers, "0x"+strings.ToLower(a))
		}
	}
	for _, cl := range b.Clauses {
		to := ""
		if len(cl.To) > 0 {
			to = "0x" + hex.EncodeToString(cl.To)
		}
		if cl.Value.Sign() != 0 || len(cl.Data) == 0 {
			in.Transfers = append(in.Transfers, intent.Transfer{To: to, Amount: cl.Value.String()})
		}
		if len(cl.Data) > 0 {
			call := intent.Call{Contract: to, Data: "0x" + hex.EncodeToString(cl.Data)}
			if len(cl.Data) >= 4 {
				call.Method = "0x" + hex.EncodeToString(cl.Data[:4])
			}
			in.Calls = append(in.Calls, call)
		}
	}
	price := new(big.Int).Mul(big.NewInt(int64(b.GasPriceCoef)), baseGasPrice)
	price.Div(price, big.NewInt(255)).Add(price, baseGasPrice)
	gas := new(big.Int).SetUint64(b.Gas)
	in.Fee = &intent.Fee{Max: new(big.Int).Mul(price, gas).String(), GasPrice: price.String(), GasLimit: gas.String()}
	return in, nil
}
