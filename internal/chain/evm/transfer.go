package evm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Transferer = (*Chain)(nil)

// transferRequest is Tatum's KMS-mode transfer body for the EVM chains
// (TransferErc20, TransferBscBep20, TransferCeloOrCeloErc20Token and
// OneTransfer of Tatum's SDK, which differ only in what is described at
// Transfer). Numbers are kept as written so that their errors name them.
type transferRequest struct {
	To              *string     `json:"to"`
	Amount          *string     `json:"amount"`
	Currency        *string     `json:"currency"`
	ContractAddress *string     `json:"contractAddress"`
	Digits          json.Number `json:"digits"`
	Data            *string     `json:"data"`
	Nonce           json.Number `json:"nonce"`
	Fee             *struct {
		GasLimit *string `json:"gasLimit"`
		GasPrice *string `json:"gasPrice"`
	} `json:"fee"`
	From           *string     `json:"from"`
	SignatureID    *string     `json:"signatureId"`
	Index          json.Number `json:"index"`
	FromPrivateKey *string     `json:"fromPrivateKey"`
	FeeCurrency    *string     `json:"feeCurrency"` // CELO
	FromShardID    json.Number `json:"fromShardID"` // ONE
	ToShardID      json.Number `json:"toShardID"`   // ONE
}

// maxTransferData is Tatum's limit on `data` (MaxLength(130000)).
const maxTransferData = 130000

// gweiDecimals converts Tatum's fee.gasPrice, in Gwei, to wei.
const gweiDecimals = 9

// Transfer builds POST /v3/{slug}/transaction (Tatum's KMS mode) into a
// Tatum-format transaction (docs/design.md §4.14):
//
//   - a native transfer (`currency` the chain's coin: ETH, BSC, MATIC, CELO,
//     ONE, XDC, KLAY): `value` is `amount` in 18 decimals, `data` the UTF-8
//     bytes of the request's `data` string, as Tatum's SDK sends it;
//   - a token transfer by `currency` symbol (tokens) or by `contractAddress`
//     with `digits`: a call of transfer(to, amount × 10^digits) on the
//     contract, value 0.
//
// What the server fills at queueing is left out: the nonce (allocated for
// `from`, §4.10), gas (eth_estimateGas from `from`), gas price and chain id
// (§4.8). `fee` {gasLimit, gasPrice in Gwei} and `nonce` are kept when
// given. The server holds no keys, so it cannot derive the sender from
// signatureId as Tatum does: `from` names it, and is required unless both
// `nonce` and `fee` are given; the signer refuses to sign when `from` is
// not the wallet's address. CELO's `feeCurrency` (CELO, CUSD or CEUR,
// required as in Tatum) pays the fee in that token: a CIP-64 transaction,
// which needs `fee` since the node's gas price is in CELO.
func (c *Chain) Transfer(_ context.Context, _ any, body []byte, testnet bool) (chain.Transfer, error) {
	var req transferRequest
	if err := chain.DecodeRequest(body, &req); err != nil {
		return chain.Transfer{}, err
	}
	var bad chain.FieldErrors
	fail := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }

	if req.FromPrivateKey != nil {
		fail("fromPrivateKey: is never sent to this server: give signatureId, the wallet's id in the signer")
	}
	var t chain.Transfer
	if req.SignatureID == nil || *req.SignatureID == "" {
		fail("signatureId: is required")
	} else {
		t.Hashes = []string{*req.SignatureID}
	}
	if req.Index != "" {
		i, err := wholeNumber(req.Index, 1<<31-1)
		if err != nil {
			fail("index: %v", err)
		} else {
			v := uint32(i)
			t.Index = &v
		}
	}
	tx := map[string]any{}
	to := c.addressField(req.To, "to", true, fail)
	from := c.addressField(req.From, "from", false, fail)
	if from != nil {
		tx["from"] = from.Hex()
	}
	amount, value, contract, decimals := c.asset(req, testnet, fail)
	if req.Amount == nil {
		fail("amount: is required")
	} else if decimals >= 0 {
		v, err := chain.ParseAmount("amount", *req.Amount, decimals)
		if err != nil {
			bad = appendErr(bad, err)
		}
		amount = v
	}
	if amount != nil && to != nil {
		if contract == nil {
			tx["to"], tx["value"] = to.Hex(), amount.String()
			if req.Data != nil && *req.Data != "" {
				tx["data"] = "0x" + fmt.Sprintf("%x", *req.Data)
			}
		} else {
			tx["to"], tx["value"], tx["data"] = contract.Hex(), value.String(), fmt.Sprintf("%#x", transferCall(*to, amount))
		}
	}
	if req.Data != nil && len(*req.Data) > maxTransferData {
		fail("data: must be at most %d characters", maxTransferData)
	}
	if req.Data != nil && *req.Data != "" && contract != nil {
		fail("data: only a transfer of the chain's own coin carries data")
	}
	if req.Nonce != "" {
		n, err := wholeNumber(req.Nonce, 1<<63-1)
		if err != nil {
			fail("nonce: %v", err)
		} else {
			tx["nonce"] = fmt.Sprintf("%#x", n)
		}
	}
	if req.Fee != nil {
		c.fee(req.Fee.GasLimit, req.Fee.GasPrice, tx, &bad)
	}
	if from == nil && req.From == nil && (req.Nonce == "" || req.Fee == nil) {
		fail("from: is required unless nonce and fee are both given: the server holds no keys, so the sender whose nonce it allocates and whose gas it estimates is named here")
	}
	c.chainFields(req, testnet, tx, fail)
	if len(bad) > 0 {
		return chain.Transfer{}, bad
	}
	serialized, err := json.Marshal(tx)
	if err != nil {
		return chain.Transfer{}, fmt.Errorf("encode transaction: %w", err)
	}
	t.Serialized = string(serialized)
	return t, nil
}

// asset reads currency, contractAddress and digits: a native transfer has
// no contract, a token transfer its contract and value 0. decimals is -1
// when the asset could not be told (its error is already in bad).
func (c *Chain) asset(req transferRequest, testnet bool, fail func(string, ...any)) (amount, value *big.Int, contract *common.Address, decimals int) {
	native := nativeSymbol[c.info.Code]
	switch {
	case req.Currency != nil && req.ContractAddress != nil:
		fail("currency: give currency or contractAddress, not both")
		return nil, nil, nil, -1
	case req.Currency != nil:
		if req.Digits != "" {
			fail("digits: is only for a token sent by contractAddress")
		}
		if *req.Currency == native {
			return nil, nil, nil, 18
		}
		tk, ok := tokens[c.info.Code][testnet][*req.Currency]
		if !ok {
			fail("currency: must be one of %s on %s %s, got %.40q (send other tokens by contractAddress and digits)",
				strings.Join(c.currencies(testnet), ", "), c.info.Code, chain.NetworkName(testnet), *req.Currency)
			return nil, nil, nil, -1
		}
		return nil, new(big.Int), &tk.address, tk.decimals
	case req.ContractAddress != nil:
		a := c.addressField(req.ContractAddress, "contractAddress", true, fail)
		d, err := wholeNumber(req.Digits, 30)
		switch {
		case req.Digits == "":
			fail("digits: is required with contractAddress")
		case err != nil || d < 1:
			fail("digits: must be a whole number from 1 to 30")
		}
		if a == nil || req.Digits == "" || err != nil || d < 1 {
			return nil, nil, nil, -1
		}
		return nil, new(big.Int), a, int(d)
	}
	fail("currency: give currency (%s or a token symbol) or contractAddress with digits", native)
	return nil, nil, nil, -1
}

// currencies lists the symbols `currency` takes on the chain and network.
func (c *Chain) currencies(testnet bool) []string {
	out := []string{nativeSymbol[c.info.Code]}
	var syms []string
	for s := range tokens[c.info.Code][testnet] {
		syms = append(syms, s)
	}
	slices.Sort(syms)
	return append(out, syms...)
}

// fee reads Tatum's fee: gasLimit in gas, gasPrice in Gwei (decimals
// allowed down to the wei), both required when fee is given.
func (c *Chain) fee(gasLimit, gasPrice *string, tx map[string]any, bad *chain.FieldErrors) {
	if gasLimit == nil {
		*bad = append(*bad, "fee.gasLimit: is required with fee")
	} else if g, err := chain.ParseAmount("fee.gasLimit", *gasLimit, 0); err != nil {
		*bad = appendErr(*bad, err)
	} else if !g.IsUint64() || g.Sign() == 0 {
		*bad = append(*bad, "fee.gasLimit: must be a whole number of gas from 1 to 2^64-1")
	} else {
		tx["gas"] = g.String()
	}
	if gasPrice == nil {
		*bad = append(*bad, "fee.gasPrice: is required with fee")
	} else if p, err := chain.ParseAmount("fee.gasPrice", *gasPrice, gweiDecimals); err != nil {
		*bad = appendErr(*bad, err)
	} else {
		tx["gasPrice"] = p.String()
	}
}

// chainFields reads the fields one chain's body adds: CELO's feeCurrency,
// ONE's shard ids. Another chain's field is refused rather than dropped.
func (c *Chain) chainFields(req transferRequest, testnet bool, tx map[string]any, fail func(string, ...any)) {
	if c == CELO {
		switch fc := req.FeeCurrency; {
		case fc == nil:
			fail("feeCurrency: is required (CELO, CUSD or CEUR)")
		case *fc == "CELO":
		case *fc == "CUSD" || *fc == "CEUR":
			tx["feeCurrency"] = tokens["CELO"][testnet][*fc].address.Hex()
			if req.Fee == nil {
				fail("fee: is required when feeCurrency is %s: the node's gas price is in CELO", *fc)
			}
		default:
			fail("feeCurrency: must be one of CELO, CUSD, CEUR, got %.40q", *fc)
		}
	} else if req.FeeCurrency != nil {
		fail("feeCurrency: is a CELO field")
	}
	for _, s := range []struct {
		name string
		v    json.Number
	}{{"fromShardID", req.FromShardID}, {"toShardID", req.ToShardID}} {
		switch {
		case s.v == "":
		case c != ONE:
			fail("%s: is a ONE field", s.name)
		case s.v != "0":
			// Shard 0 is the EVM-compatible one that eth_ nodes and
			// Ethereum-style signing address.
			fail("%s: only shard 0 is supported", s.name)
		}
	}
}

// addressField parses an optional or required address field.
func (c *Chain) addressField(s *string, field string, required bool, fail func(string, ...any)) *common.Address {
	if s == nil {
		if required {
			fail("%s: is required", field)
		}
		return nil
	}
	a, err := c.ParseAddress(strings.TrimSpace(*s))
	if err != nil {
		fail("%s: %v", field, err)
		return nil
	}
	addr := common.Address(a)
	return &addr
}

// transferCall is the ERC-20 call transfer(to, amount): the selector
// 0xa9059cbb, then each argument as a 32-byte word.
func transferCall(to common.Address, amount *big.Int) []byte {
	out := make([]byte, 0, 4+32+32)
	out = append(out, 0xa9, 0x05, 0x9c, 0xbb)
	out = append(out, common.LeftPadBytes(to[:], 32)...)
	return append(out, common.LeftPadBytes(amount.Bytes(), 32)...)
}

// wholeNumber reads a JSON number that must be a whole number from 0 to max.
func wholeNumber(n json.Number, max uint64) (uint64, error) {
	v, ok := new(big.Int).SetString(n.String(), 10)
	if !ok || v.Sign() < 0 || !v.IsUint64() || v.Uint64() > max {
		return 0, fmt.Errorf("must be a whole number from 0 to %d, got %.40s", max, n.String())
	}
	return v.Uint64(), nil
}

// appendErr adds a FieldErrors' messages, or any other error's text, to bad.
func appendErr(bad chain.FieldErrors, err error) chain.FieldErrors {
	var fe chain.FieldErrors
	if errors.As(err, &fe) {
		return append(bad, fe...)
	}
	return append(bad, err.Error())
}
