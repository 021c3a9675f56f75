package evm

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/custoskms/custos/internal/chain"
)

// Serialized transaction formats (docs/design.md §5.1): a JSON object is
// Tatum's TransactionConfig, "0x" hex is the native unsigned transaction.
// Nothing else is accepted, so the two can never be confused.
const (
	FormatTatum  = "tatum"
	FormatNative = "native"
)

// Transaction types produced. TypeCeloFeeCurrency is Celo's CIP-64 dynamic-fee
// transaction, the form current Celo nodes accept for fees paid in a token.
const (
	TypeLegacy          = types.LegacyTxType
	TypeAccessList      = types.AccessListTxType
	TypeDynamicFee      = types.DynamicFeeTxType
	TypeCeloFeeCurrency = 0x7b
)

// Tx is a parsed pending EVM transaction. Pointer fields are nil when a
// Tatum-format transaction leaves them out; a native transaction is always complete.
type Tx struct {
	Format      string
	Type        uint8
	ChainID     *big.Int
	Nonce       *uint64
	Gas         *uint64
	GasPrice    *big.Int // types 0 and 1
	GasTipCap   *big.Int // maxPriorityFeePerGas, types 2 and 0x7b
	GasFeeCap   *big.Int // maxFeePerGas, types 2 and 0x7b
	To          *common.Address
	Value       *big.Int
	Data        []byte
	AccessList  types.AccessList
	FeeCurrency *common.Address // CELO only
	// From is the sender a Tatum config names, when it names one (it is often 0).
	// It is informative: the signing key decides the sender.
	From *common.Address
}

// Missing lists the fields a signer needs and the transaction lacks, by their
// Tatum JSON names.
func (t *Tx) Missing() []string {
	var m []string
	if t.Nonce == nil {
		m = append(m, "nonce")
	}
	if t.Gas == nil {
		m = append(m, "gas")
	}
	switch t.Type {
	case TypeLegacy, TypeAccessList:
		if t.GasPrice == nil {
			m = append(m, "gasPrice")
		}
	default:
		if t.GasFeeCap == nil {
			m = append(m, "maxFeePerGas")
		}
		if t.GasTipCap == nil {
			m = append(m, "maxPriorityFeePerGas")
		}
	}
	if t.ChainID == nil {
		m = append(m, "chainId")
	}
	return m
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", chain.ErrInvalidTx, fmt.Sprintf(format, a...))
}

// ParseTx decodes a serializedTransaction in either format. It checks the
// structure and the chain's own rules but not the network: see ValidateTx.
func (c *Chain) ParseTx(serialized string) (*Tx, error) {
	s := strings.TrimSpace(serialized)
	switch {
	case strings.HasPrefix(s, "{"):
		return c.parseTatum([]byte(s))
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		return c.parseNative(s[2:])
	case s == "":
		return nil, invalid("serializedTransaction is empty")
	default:
		return nil, invalid("%s serializedTransaction must be a JSON object (Tatum TransactionConfig) or 0x-hex of an unsigned transaction", c.info.Code)
	}
}

// tatumFields are the TransactionConfig keys understood. Any other key is
// refused: a field whose meaning is unknown must not be silently dropped from
// a transaction that moves money.
var tatumFields = []string{"to", "from", "value", "data", "nonce", "gas", "gasLimit", "gasPrice",
	"maxFeePerGas", "maxPriorityFeePerGas", "chainId", "accessList", "type",
	"feeCurrency", "gatewayFee", "gatewayFeeRecipient"}

func (c *Chain) parseTatum(b []byte) (*Tx, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, invalid("Tatum transaction JSON: %v", err)
	}
	if dec.More() {
		return nil, invalid("Tatum transaction JSON: trailing data after the object")
	}
	return c.tatumTx(raw)
}

// tatumTx reads a Tatum TransactionConfig from its members, raw (null
// members are removed from raw).
func (c *Chain) tatumTx(raw map[string]json.RawMessage) (*Tx, error) {
	for k, v := range raw {
		if !slices.Contains(tatumFields, k) {
			return nil, invalid("Tatum transaction JSON: unknown field %q", k)
		}
		if string(v) == "null" {
			delete(raw, k)
		}
	}
	t := &Tx{Format: FormatTatum}
	var err error
	if v, ok := raw["to"]; ok {
		if t.To, err = c.jsonAddress(v, "to"); err != nil {
			return nil, err
		}
	}
	if v, ok := raw["from"]; ok {
		// Tatum writes `from: 0` in its configs; only an address is kept.
		var s string
		if json.Unmarshal(v, &s) == nil && s != "" {
			if t.From, err = c.jsonAddress(v, "from"); err != nil {
				return nil, err
			}
		}
	}
	if t.Value, err = optQuantity(raw, "value"); err != nil {
		return nil, err
	}
	if t.Value == nil {
		t.Value = new(big.Int) // web3's default
	}
	if v, ok := raw["data"]; ok {
		if t.Data, err = jsonBytes(v, "data"); err != nil {
			return nil, err
		}
	}
	if t.To == nil && len(t.Data) == 0 {
		return nil, invalid("Tatum transaction JSON: `to` is missing (only a contract deployment, with `data`, may leave it out)")
	}
	if t.Nonce, err = optUint64(raw, "nonce"); err != nil {
		return nil, err
	}
	gas, err := optUint64(raw, "gas")
	if err != nil {
		return nil, err
	}
	gasLimit, err := optUint64(raw, "gasLimit")
	if err != nil {
		return nil, err
	}
	if gas != nil && gasLimit != nil && *gas != *gasLimit {
		return nil, invalid("Tatum transaction JSON: `gas` and `gasLimit` differ")
	}
	t.Gas = firstSet(gas, gasLimit)
	if t.GasPrice, err = optQuantity(raw, "gasPrice"); err != nil {
		return nil, err
	}
	if t.GasFeeCap, err = optQuantity(raw, "maxFeePerGas"); err != nil {
		return nil, err
	}
	if t.GasTipCap, err = optQuantity(raw, "maxPriorityFeePerGas"); err != nil {
		return nil, err
	}
	if cid, err := optQuantity(raw, "chainId"); err != nil {
		return nil, err
	} else if cid != nil {
		if cid.Sign() == 0 || !cid.IsUint64() {
			return nil, invalid("chainId %s is not a valid EIP-155 chain id", cid)
		}
		t.ChainID = cid
	}
	if v, ok := raw["accessList"]; ok {
		if err := json.Unmarshal(v, &t.AccessList); err != nil {
			return nil, invalid("Tatum transaction JSON: accessList: %v", err)
		}
	}
	dynamic := t.GasFeeCap != nil || t.GasTipCap != nil
	if dynamic && t.GasPrice != nil {
		return nil, invalid("gasPrice and maxFeePerGas/maxPriorityFeePerGas are exclusive: give the legacy or the EIP-1559 fee fields")
	}
	switch {
	case dynamic:
		t.Type = TypeDynamicFee
	case t.AccessList != nil:
		t.Type = TypeAccessList
	default:
		t.Type = TypeLegacy
	}
	if v, ok := raw["type"]; ok {
		typ, err := quantity(v, "type")
		if err != nil {
			return nil, err
		}
		if !typ.IsUint64() || typ.Uint64() != uint64(t.Type) {
			return nil, invalid("type %s does not match the fee fields given (they make a type %d transaction)", typ, t.Type)
		}
	}
	if err := c.parseCeloFields(raw, t); err != nil {
		return nil, err
	}
	return t, nil
}

// parseCeloFields reads Celo's fee-currency fields. Gateway fees were removed
// from Celo; they are accepted only when empty, as Tatum writes them.
func (c *Chain) parseCeloFields(raw map[string]json.RawMessage, t *Tx) error {
	_, fc := raw["feeCurrency"]
	_, gf := raw["gatewayFee"]
	_, gr := raw["gatewayFeeRecipient"]
	if !fc && !gf && !gr {
		return nil
	}
	if c != CELO {
		return invalid("feeCurrency/gatewayFee are CELO fields, not %s ones", c.info.Code)
	}
	if gf {
		fee, err := quantity(raw["gatewayFee"], "gatewayFee")
		if err != nil {
			return err
		}
		if fee.Sign() != 0 {
			return invalid("gatewayFee: Celo no longer has gateway fees; leave it out")
		}
	}
	if gr {
		var s string
		if json.Unmarshal(raw["gatewayFeeRecipient"], &s) != nil || (s != "" && s != "0x" && !isZeroAddr(s)) {
			return invalid("gatewayFeeRecipient: Celo no longer has gateway fees; leave it out")
		}
	}
	if !fc {
		return nil
	}
	var s string
	if json.Unmarshal(raw["feeCurrency"], &s) == nil && (s == "" || s == "0x") {
		return nil // fees in CELO itself
	}
	addr, err := c.jsonAddress(raw["feeCurrency"], "feeCurrency")
	if err != nil {
		return err
	}
	if t.Type == TypeAccessList {
		return invalid("feeCurrency with an accessList and gasPrice is not a Celo transaction type")
	}
	t.FeeCurrency = addr
	t.Type = TypeCeloFeeCurrency
	if t.GasPrice != nil {
		// CIP-64 has no gasPrice: capping both fees at it pays at most what a
		// legacy transaction with that gas price would.
		t.GasFeeCap, t.GasTipCap = t.GasPrice, t.GasPrice
		t.GasPrice = nil
	}
	return nil
}

func isZeroAddr(s string) bool {
	s = strings.TrimPrefix(s, "0x")
	return len(s) == 40 && strings.Trim(s, "0") == ""
}

func firstSet(a, b *uint64) *uint64 {
	if a != nil {
		return a
	}
	return b
}

func (c *Chain) jsonAddress(v json.RawMessage, field string) (*common.Address, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, invalid("%s: want an address string", field)
	}
	a, err := c.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return nil, invalid("%s: %v", field, err)
	}
	addr := common.Address(a)
	return &addr, nil
}

func jsonBytes(v json.RawMessage, field string) ([]byte, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, invalid("%s: want a 0x-hex string", field)
	}
	body, ok := strings.CutPrefix(s, "0x")
	if !ok && s != "" {
		return nil, invalid("%s: want a 0x-hex string", field)
	}
	b, err := hex.DecodeString(body)
	if err != nil {
		return nil, invalid("%s: not hex (odd length or bad digit)", field)
	}
	return b, nil
}

var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// quantity reads a non-negative integer given as a JSON number, a decimal
// string or a 0x-hex string — the forms web3 accepts.
func quantity(v json.RawMessage, field string) (*big.Int, error) {
	var s string
	if len(v) > 0 && v[0] == '"' {
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, invalid("%s: %v", field, err)
		}
	} else {
		s = string(v)
	}
	s = strings.TrimSpace(s)
	n := new(big.Int)
	ok := false
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		if len(s) > 2 && len(s) <= 66 {
			_, ok = n.SetString(s[2:], 16)
		}
	case s != "" && len(s) <= 78 && strings.Trim(s, "0123456789") == "":
		_, ok = n.SetString(s, 10)
	}
	if !ok {
		return nil, invalid("%s: want a non-negative integer (decimal or 0x-hex), got %.40s", field, string(v))
	}
	if n.Cmp(maxUint256) > 0 {
		return nil, invalid("%s: larger than 2^256-1", field)
	}
	return n, nil
}

func optQuantity(raw map[string]json.RawMessage, field string) (*big.Int, error) {
	v, ok := raw[field]
	if !ok {
		return nil, nil
	}
	return quantity(v, field)
}

func optUint64(raw map[string]json.RawMessage, field string) (*uint64, error) {
	n, err := optQuantity(raw, field)
	if err != nil || n == nil {
		return nil, err
	}
	if !n.IsUint64() {
		return nil, invalid("%s: larger than 2^64-1", field)
	}
	u := n.Uint64()
	return &u, nil
}

// Unsigned native forms, as ethers' unsignedSerialized writes them. rlp
// decoding into these structs refuses a wrong element count, non-canonical
// integers and trailing bytes.
type (
	unsignedLegacy struct {
		Nonce    uint64
		GasPrice *big.Int
		Gas      uint64
		To       *common.Address `rlp:"nil"`
		Value    *big.Int
		Data     []byte
		ChainID  *big.Int // EIP-155: chain id, 0, 0 stand where v, r, s go
		R, S     *big.Int
	}
	unsignedAccessList struct {
		ChainID    *big.Int
		Nonce      uint64
		GasPrice   *big.Int
		Gas        uint64
		To         *common.Address `rlp:"nil"`
		Value      *big.Int
		Data       []byte
		AccessList types.AccessList
	}
	unsignedDynamicFee struct {
		ChainID    *big.Int
		Nonce      uint64
		GasTipCap  *big.Int
		GasFeeCap  *big.Int
		Gas        uint64
		To         *common.Address `rlp:"nil"`
		Value      *big.Int
		Data       []byte
		AccessList types.AccessList
	}
)

func (c *Chain) parseNative(h string) (*Tx, error) {
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, invalid("native transaction: not hex (odd length or bad digit)")
	}
	if len(b) == 0 {
		return nil, invalid("native transaction: empty")
	}
	t := &Tx{Format: FormatNative}
	var gas, nonce uint64
	switch {
	case b[0] >= 0xc0:
		var u unsignedLegacy
		if err := rlp.DecodeBytes(b, &u); err != nil {
			if legacyWithoutChainID(b) {
				return nil, invalid("native legacy transaction has no EIP-155 chain id (6 fields): it could be replayed on any chain; encode it with its chain id")
			}
			return nil, invalid("native legacy transaction: want RLP [nonce, gasPrice, gas, to, value, data, chainId, 0, 0]: %v", err)
		}
		if u.R.Sign() != 0 || u.S.Sign() != 0 {
			return nil, invalid("native transaction is already signed")
		}
		if u.ChainID.Sign() == 0 {
			return nil, invalid("native legacy transaction has chain id 0")
		}
		t.Type, t.ChainID, nonce, t.GasPrice, gas = TypeLegacy, u.ChainID, u.Nonce, u.GasPrice, u.Gas
		t.To, t.Value, t.Data = u.To, u.Value, u.Data
	case b[0] == TypeAccessList:
		var u unsignedAccessList
		if err := rlp.DecodeBytes(b[1:], &u); err != nil {
			return nil, invalid("native EIP-2930 transaction: want 0x01 ‖ RLP [chainId, nonce, gasPrice, gas, to, value, data, accessList] (unsigned): %v", err)
		}
		t.Type, t.ChainID, nonce, t.GasPrice, gas = TypeAccessList, u.ChainID, u.Nonce, u.GasPrice, u.Gas
		t.To, t.Value, t.Data, t.AccessList = u.To, u.Value, u.Data, u.AccessList
	case b[0] == TypeDynamicFee:
		var u unsignedDynamicFee
		if err := rlp.DecodeBytes(b[1:], &u); err != nil {
			return nil, invalid("native EIP-1559 transaction: want 0x02 ‖ RLP [chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to, value, data, accessList] (unsigned): %v", err)
		}
		t.Type, t.ChainID, nonce, t.GasTipCap, t.GasFeeCap, gas = TypeDynamicFee, u.ChainID, u.Nonce, u.GasTipCap, u.GasFeeCap, u.Gas
		t.To, t.Value, t.Data, t.AccessList = u.To, u.Value, u.Data, u.AccessList
	default:
		return nil, invalid("native transaction type 0x%02x is not supported (legacy, 0x01 EIP-2930 and 0x02 EIP-1559 are)", b[0])
	}
	if t.ChainID.Sign() == 0 || !t.ChainID.IsUint64() {
		return nil, invalid("native transaction: chain id %s is not valid", t.ChainID)
	}
	for _, q := range []*big.Int{t.GasPrice, t.GasTipCap, t.GasFeeCap, t.Value} {
		if q != nil && q.BitLen() > 256 {
			return nil, invalid("native transaction: an amount is larger than 2^256-1")
		}
	}
	t.Nonce, t.Gas = &nonce, &gas
	return t, nil
}

// legacyWithoutChainID tells a pre-EIP-155 unsigned transaction (six fields)
// apart from other malformed input, for a more useful error.
func legacyWithoutChainID(b []byte) bool {
	content, _, err := rlp.SplitList(b)
	if err != nil {
		return false
	}
	n, err := rlp.CountValues(content)
	return err == nil && n == 6
}
