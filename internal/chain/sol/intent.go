package sol

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Intender = (*Chain)(nil)

// Programs and instructions Intent decodes.
var (
	systemProgram        = make([]byte, 32) // 11111111111111111111111111111111
	computeBudgetProgram = base58.Decode("ComputeBudget111111111111111111111111111111")
)

const (
	systemTransfer = 2 // SystemInstruction::Transfer{lamports: u64}

	budgetSetLimit = 2 // ComputeBudgetInstruction::SetComputeUnitLimit(u32)
	budgetSetPrice = 3 // ComputeBudgetInstruction::SetComputeUnitPrice(u64 micro-lamports)

	// lamportsPerSignature is the base fee of each signature, unchanged on
	// every Solana cluster since launch.
	lamportsPerSignature = 5000
	// The compute units an instruction may use when no limit is set, and
	// the most a transaction may ask for.
	defaultUnitsPerInstruction = 200_000
	maxUnits                   = 1_400_000
)

// Intent implements chain.Intender on the message Sign signs (same decoding,
// same refusal of an unfilled blockhash):
//   - Signers: the required signers in account order, fee payer first.
//   - Transfers: System Program transfers, in lamports.
//   - Calls: every other instruction but the compute budget's, Contract the
//     program id, Data the instruction data in base58 (as Solana's RPC shows
//     a compiled instruction). An account only a v0 address table names
//     cannot be resolved offline: a transfer to or from one is shown as a
//     call, and a program there as "address table entry N".
//   - Fee: the base fee (5000 lamports per signature) plus the priority fee
//     the compute budget instructions set (unit price in micro-lamports ×
//     unit limit, rounded up), as Max; GasPrice the unit price, GasLimit the
//     unit limit (200 000 per instruction when not set, at most 1 400 000).
//
// A Solana message names no network: the intent names the wallet's.
func (c *Chain) Intent(serialized string, testnet bool, _ ...uint64) (intent.Intent, error) {
	_, _, msg, err := prepare(serialized)
	if err != nil {
		return intent.Intent{}, err
	}
	in := intent.Intent{Chain: c.info.Code, Network: chain.NetworkName(testnet), Transfers: []intent.Transfer{}}
	for _, k := range msg.keys[:msg.required] {
		in.Signers = append(in.Signers, base58.Encode(k))
	}
	key := func(i int) ([]byte, bool) {
		if i < len(msg.keys) {
			return msg.keys[i], true
		}
		return nil, false
	}
	var price uint64
	var limit *uint32
	others := 0
	for _, ix := range msg.instructions {
		program, static := key(ix.program)
		switch {
		case static && bytes.Equal(program, computeBudgetProgram) && len(ix.data) == 5 && ix.data[0] == budgetSetLimit:
			l := binary.LittleEndian.Uint32(ix.data[1:])
			limit = &l
			continue
		case static && bytes.Equal(program, computeBudgetProgram) && len(ix.data) == 9 && ix.data[0] == budgetSetPrice:
			price = binary.LittleEndian.Uint64(ix.data[1:])
			continue
		case static && bytes.Equal(program, computeBudgetProgram):
		default:
			others++
		}
		if static && bytes.Equal(program, systemProgram) && len(ix.data) == 12 &&
			binary.LittleEndian.Uint32(ix.data) == systemTransfer && len(ix.accts) >= 2 {
			if to, ok := key(int(ix.accts[1])); ok {
				if _, ok := key(int(ix.accts[0])); ok {
					in.Transfers = append(in.Transfers, intent.Transfer{
						To: base58.Encode(to), Amount: fmt.Sprint(binary.LittleEndian.Uint64(ix.data[4:])),
					})
					continue
				}
			}
		}
		name := fmt.Sprintf("address table entry %d", ix.program-len(msg.keys))
		if static {
			name = base58.Encode(program)
		}
		in.Calls = append(in.Calls, intent.Call{Contract: name, Data: base58.Encode(ix.data)})
	}
	units := uint64(min(defaultUnitsPerInstruction*others, maxUnits))
	if limit != nil {
		units = uint64(min(*limit, maxUnits))
	}
	// price × units / 10^6, rounded up, in lamports; the product can pass 2^64.
	prio := new(big.Int).Mul(new(big.Int).SetUint64(price), new(big.Int).SetUint64(units))
	prio.Add(prio, big.NewInt(999_999)).Div(prio, big.NewInt(1_000_000))
	total := prio.Add(prio, big.NewInt(int64(lamportsPerSignature*msg.required)))
	in.Fee = &intent.Fee{Max: total.String(), GasPrice: fmt.Sprint(price), GasLimit: fmt.Sprint(units)}
	return in, nil
}
