package evm

import (
	"bytes"
	"encoding/hex"
	"math/big"
	"strconv"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Intender = (*Chain)(nil)

// ERC-20 selectors decoded into token transfers.
var (
	selectorTransfer     = []byte{0xa9, 0x05, 0x9c, 0xbb} // transfer(address,uint256)
	selectorTransferFrom = []byte{0x23, 0xb8, 0x72, 0xdd} // transferFrom(address,address,uint256)
)

// Intent implements chain.Intender. It decodes with ParseTx, the parser Sign
// uses, and refuses what ValidateTx refuses: a malformed transaction
// (chain.ErrInvalidTx) and a chain id of another chain or network
// (chain.ErrWrongNetwork).
//
// A Tatum-format transaction may still lack what the server completes from
// the node when it is queued (nonce, gas, fees, chain id): the intent then
// leaves those out (Sequence nil, ChainID empty, Fee partial, or nil when no
// fee field is given), and Sign refuses the transaction until it is complete.
//
// Addresses are spelled as FormatAddress shows the chain's wallets:
// lower-case hex behind "0x", or behind "xdc" on XDC, so that a policy or a
// person compares them with wallet addresses as strings. Signers is the
// transaction's `from` when it names one; a native transaction never does,
// and then the key that signs decides.
//
// Transfers list the native value to `to` when it is not zero or when the
// transaction carries no data (a plain payment of 0 is still a payment), then
// an ERC-20 transfer or transferFrom in the data, with Asset the token
// contract. Every transaction with data is a Call of `to` (Method its 4-byte
// selector), and a contract creation a Call with an empty Contract, whose
// value, if any, is a transfer to "" (the contract it creates).
func (c *Chain) Intent(serialized string, testnet bool, extra ...uint64) (intent.Intent, error) {
	t, err := c.parseForNetwork(serialized, testnet, extra...)
	if err != nil {
		return intent.Intent{}, err
	}
	return c.intentOf(t, testnet), nil
}

// intentOf is what t does, by the conventions Intent documents; SignedIntent
// decodes a signed transaction into the same Tx, so that both intents of one
// transaction are comparable field by field.
func (c *Chain) intentOf(t *Tx, testnet bool) intent.Intent {
	in := intent.Intent{
		Chain:     c.info.Code,
		Network:   chain.NetworkName(testnet),
		Signers:   []string{},
		Transfers: []intent.Transfer{},
		Fee:       t.fee(c),
	}
	if t.ChainID != nil {
		in.ChainID = t.ChainID.String()
	}
	if t.From != nil {
		in.Signers = append(in.Signers, c.FormatAddress(*t.From))
	}
	if t.Nonce != nil {
		n := *t.Nonce
		in.Sequence = &n
	}
	to := ""
	if t.To != nil {
		to = c.FormatAddress(*t.To)
	}
	value := t.Value
	if value == nil {
		value = new(big.Int)
	}
	if value.Sign() > 0 || (t.To != nil && len(t.Data) == 0) {
		in.Transfers = append(in.Transfers, intent.Transfer{To: to, Amount: value.String()})
	}
	if t.To != nil {
		if tr, ok := c.tokenTransfer(t.Data); ok {
			tr.Asset = to
			in.Transfers = append(in.Transfers, tr)
		}
	}
	if len(t.Data) > 0 || t.To == nil {
		call := intent.Call{Contract: to}
		if len(t.Data) > 0 {
			call.Data = "0x" + hex.EncodeToString(t.Data)
		}
		// Init code has no selector: it is run, not called.
		if t.To != nil && len(t.Data) >= 4 {
			call.Method = "0x" + hex.EncodeToString(t.Data[:4])
		}
		in.Calls = []intent.Call{call}
	}
	return in
}

// fee is the transaction's fee side, nil when it gives no fee field.
func (t *Tx) fee(c *Chain) *intent.Fee {
	var f intent.Fee
	price := t.GasPrice
	if t.Type == TypeDynamicFee || t.Type == TypeCeloFeeCurrency {
		price = t.GasFeeCap
	}
	if price != nil {
		f.GasPrice = price.String()
	}
	if t.GasTipCap != nil {
		f.MaxPriorityFeePerGas = t.GasTipCap.String()
	}
	if t.Gas != nil {
		f.GasLimit = strconv.FormatUint(*t.Gas, 10)
		if price != nil {
			f.Max = new(big.Int).Mul(price, new(big.Int).SetUint64(*t.Gas)).String()
		}
	}
	if t.FeeCurrency != nil {
		f.Asset = c.FormatAddress(*t.FeeCurrency)
	}
	if f == (intent.Fee{}) {
		return nil
	}
	return &f
}

// tokenTransfer decodes ERC-20 transfer and transferFrom calldata into the
// recipient and amount, without the token (the caller's `to`). It reads the
// arguments as a token runs them: an address is the low 20 bytes of its word
// and bytes past the arguments are ignored; shorter calldata is no transfer
// (the call itself is still listed).
func (c *Chain) tokenTransfer(data []byte) (intent.Transfer, bool) {
	var recipient, amount []byte
	switch {
	case len(data) >= 4+2*32 && bytes.Equal(data[:4], selectorTransfer):
		recipient, amount = data[4:4+32], data[4+32:4+64]
	case len(data) >= 4+3*32 && bytes.Equal(data[:4], selectorTransferFrom):
		recipient, amount = data[4+32:4+64], data[4+64:4+96]
	default:
		return intent.Transfer{}, false
	}
	return intent.Transfer{
		To:     c.FormatAddress(common.BytesToAddress(recipient)),
		Amount: new(big.Int).SetBytes(amount).String(),
	}, true
}
