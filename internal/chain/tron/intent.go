package tron

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"slices"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Intender = (*Chain)(nil)

// Contract types (java-tron's Transaction.Contract.ContractType) and
// message fields Intent decodes.
const (
	typeTransfer = 1  // TransferContract{owner_address, to_address, amount}
	typeTrigger  = 31 // TriggerSmartContract{owner_address, contract_address, call_value, data, call_token_value, token_id}

	transferTo, transferAmount        = 2, 3
	assetName, assetTo, assetAmount   = 1, 3, 4
	triggerContract, triggerCallValue = 2, 3
	triggerData, triggerTokenValue    = 4, 5
	triggerTokenID                    = 6
)

// trc20Transfer is the selector of transfer(address,uint256).
var trc20Transfer = []byte{0xa9, 0x05, 0x9c, 0xbb}

// Intent implements chain.Intender on raw_data_hex, the bytes whose hash
// Sign signs, after the same checks Sign makes without a key:
//   - Signers: each contract's owner_address, base58 T….
//   - Transfers: a TransferContract's amount in sun; a TransferAssetContract
//     (TRC-10) with its asset name (the token id) as Asset; a
//     TriggerSmartContract's call_value in sun and call_token_value of its
//     token_id to the contract, and a TRC-20 transfer(address,uint256) in its
//     data as a transfer of the token (Asset = the contract, T…).
//   - Calls: every TriggerSmartContract (Contract T…, Method the 4-byte
//     selector as 0x hex, Data the call data in hex); any other contract
//     type as a call with Method "type N" and its owner as Contract, so that
//     a policy of allowed calls refuses what it does not know.
//   - Fee.Max: fee_limit in sun when set (the most energy may burn); nil
//     without it, the bandwidth a plain transfer burns being the node's.
//   - Memo: raw data's data field.
//
// A TRON transaction names no network: the intent names the wallet's.
func (c *Chain) Intent(serialized string, testnet bool, _ ...uint64) (intent.Intent, error) {
	p, err := prepare(serialized)
	if err != nil {
		return intent.Intent{}, err
	}
	return c.intentOf(p, testnet)
}

// intentOf is the intent of a prepared transaction.
func (c *Chain) intentOf(p *prepared, testnet bool) (intent.Intent, error) {
	in := intent.Intent{Chain: c.info.Code, Network: chain.NetworkName(testnet), Signers: []string{}, Transfers: []intent.Transfer{}}
	for _, ct := range p.rd.contracts {
		if owner := showAddress(ct.owner); !slices.Contains(in.Signers, owner) {
			in.Signers = append(in.Signers, owner)
		}
		if err := decodeContract(&in, ct); err != nil {
			return intent.Intent{}, chain.InvalidTx("raw_data_hex contract: %s", err.Error())
		}
	}
	if p.rd.feeLimit > 0 {
		in.Fee = &intent.Fee{Max: strconv.FormatInt(p.rd.feeLimit, 10)}
	}
	in.Memo = chain.MemoText(p.rd.data)
	return in, nil
}

// message is the fields of a contract message Intent reads: byte fields and
// varints by number.
type message struct {
	bytes map[protowire.Number][]byte
	ints  map[protowire.Number]uint64
}

func readMessage(b []byte) (message, error) {
	m := message{map[protowire.Number][]byte{}, map[protowire.Number]uint64{}}
	err := chain.ProtoFields(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		if typ == protowire.BytesType {
			m.bytes[num] = v
		} else {
			m.ints[num] = n
		}
		return nil
	})
	return m, err
}

// sun is a protobuf int64 amount; a negative one is refused by the chain
// and shown as it is here.
func sun(n uint64) string { return strconv.FormatInt(int64(n), 10) }

func decodeContract(in *intent.Intent, ct rawContract) error {
	m, err := readMessage(ct.value)
	if err != nil {
		return err
	}
	switch ct.typ {
	case typeTransfer:
		in.Transfers = append(in.Transfers, intent.Transfer{To: showAddress(m.bytes[transferTo]), Amount: sun(m.ints[transferAmount])})
	case typeTransferAsset:
		in.Transfers = append(in.Transfers, intent.Transfer{
			To: showAddress(m.bytes[assetTo]), Amount: sun(m.ints[assetAmount]), Asset: chain.MemoText(m.bytes[assetName]),
		})
	case typeTrigger:
		contract := showAddress(m.bytes[triggerContract])
		if v := m.ints[triggerCallValue]; v != 0 {
			in.Transfers = append(in.Transfers, intent.Transfer{To: contract, Amount: sun(v)})
		}
		if v := m.ints[triggerTokenValue]; v != 0 {
			in.Transfers = append(in.Transfers, intent.Transfer{To: contract, Amount: sun(v), Asset: strconv.FormatInt(int64(m.ints[triggerTokenID]), 10)})
		}
		data := m.bytes[triggerData]
		call := intent.Call{Contract: contract, Data: hex.EncodeToString(data)}
		if len(data) >= 4 {
			call.Method = "0x" + hex.EncodeToString(data[:4])
		}
		// transfer(address,uint256): the address word is 12 zero bytes and
		// the 20-byte account (TRON's 0x41 prefix left out).
		if len(data) == 68 && bytes.Equal(data[:4], trc20Transfer) && bytes.Equal(data[4:16], make([]byte, 12)) {
			to := append([]byte{addressPrefix}, data[16:36]...)
			in.Transfers = append(in.Transfers, intent.Transfer{To: showAddress(to), Amount: new(big.Int).SetBytes(data[36:68]).String(), Asset: contract})
		}
		in.Calls = append(in.Calls, call)
	default:
		in.Calls = append(in.Calls, intent.Call{Contract: showAddress(ct.owner), Method: fmt.Sprintf("type %d", ct.typ), Data: hex.EncodeToString(ct.value)})
	}
	return nil
}
