package vet

import (
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.TxValidator = (*Chain)(nil)

// mainnetChainTag is the last byte of VeChain mainnet's genesis id; the
// testnet's is 0x27. Other tags are private networks.
const mainnetChainTag = 0x4a

// Clause and body are the unsigned transaction body of VeChain Thor, in RLP
// order. Clause is exported for the node interface's estimate (Node).
type Clause struct {
	To    []byte // empty for a contract creation
	Value *big.Int
	Data  []byte
}

type body struct {
	ChainTag     uint8
	BlockRef     uint64
	Expiration   uint32
	Clauses      []Clause
	GasPriceCoef uint8
	Gas          uint64
	DependsOn    []byte // empty or a 32-byte transaction id
	Nonce        uint64
	Reserved     []rlp.RawValue
}

// ValidateTx implements chain.TxValidator. The native form is the 0x-hex RLP
// of the unsigned body (thor-devkit's encoding without signature), decoded in
// full; the Tatum form is a thorify transaction config JSON.
func (c *Chain) ValidateTx(serialized string, testnet bool, _ ...uint64) error {
	if chain.LooksLikeJSONObject(serialized) {
		return validateTatum(serialized, testnet)
	}
	_, b, err := decodeNative(serialized)
	if err != nil {
		return err
	}
	return checkTag(uint64(b.ChainTag), testnet)
}

// decodeNative decodes and checks the native form, all but its network, and
// returns the RLP bytes with the body decoded from them.
func decodeNative(serialized string) ([]byte, *body, error) {
	h, ok := strings.CutPrefix(serialized, "0x")
	if !ok {
		return nil, nil, chain.InvalidTx("VET transaction is neither 0x-hex RLP nor Tatum JSON")
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		return nil, nil, chain.InvalidTx("VET transaction is not hex")
	}
	var b body
	if err := rlp.DecodeBytes(raw, &b); err != nil {
		return nil, nil, chain.InvalidTx("VET transaction body: %v", err)
	}
	if len(b.Clauses) == 0 {
		return nil, nil, chain.InvalidTx("VET transaction has no clause")
	}
	for _, c := range b.Clauses {
		if len(c.To) != 0 && len(c.To) != 20 {
			return nil, nil, chain.InvalidTx("clause recipient is not a 20-byte address")
		}
	}
	if len(b.DependsOn) != 0 && len(b.DependsOn) != 32 {
		return nil, nil, chain.InvalidTx("dependsOn is not a 32-byte transaction id")
	}
	if b.Gas == 0 {
		return nil, nil, chain.InvalidTx("gas is zero")
	}
	return raw, &b, nil
}

func checkTag(tag uint64, testnet bool) error {
	if (tag == mainnetChainTag) == testnet {
		net := chain.NetworkName(testnet)
		return chain.WrongNetwork("chainTag %#x on %s", tag, net)
	}
	return nil
}

// validateTatum checks a thorify config: {from?, to, value, gas, data?,
// chainTag?, blockRef?, expiration?, gasPriceCoef?, nonce?}. Missing chain
// fields are filled from a node before signing.
func validateTatum(s string, testnet bool) error {
	o, err := chain.ParseJSONObject(s)
	if err != nil {
		return err
	}
	return checkTatum(o, testnet)
}

// checkTatum is validateTatum on a parsed object, for tatumBody, which goes on reading it.
func checkTatum(o chain.JSONObject, testnet bool) error {
	if o.Has("to") {
		to, err := o.String("to")
		if err != nil {
			return err
		}
		if a, ok := strings.CutPrefix(to, "0x"); !ok || len(a) != 40 || !chain.IsHex(a) {
			return chain.InvalidTx(`"to" is not a 0x address`)
		}
	} else if !o.Has("data") {
		return chain.InvalidTx(`VET transaction needs "to" (or "data" to create a contract)`)
	}
	if o.Has("data") {
		d, err := o.String("data")
		if err != nil {
			return err
		}
		if h, ok := strings.CutPrefix(d, "0x"); !ok || (h != "" && !chain.IsHex(h)) {
			return chain.InvalidTx(`"data" is not 0x hex`)
		}
	}
	if !o.Has("value") {
		return chain.InvalidTx(`missing "value"`)
	}
	if !quantity(o["value"]) {
		return chain.InvalidTx(`"value" is not a decimal or 0x-hex amount`)
	}
	for _, k := range []string{"gas", "expiration", "gasPriceCoef", "nonce"} {
		if o.Has(k) && !quantity(o[k]) {
			return chain.InvalidTx("%q is not a non-negative integer", k)
		}
	}
	if o.Has("blockRef") {
		r, err := o.String("blockRef")
		if err != nil {
			return err
		}
		if h, ok := strings.CutPrefix(r, "0x"); !ok || len(h) > 16 || !chain.IsHex(h) {
			return chain.InvalidTx(`"blockRef" is not 8 bytes of 0x hex`)
		}
	}
	if o.Has("chainTag") {
		tag, err := o.Uint("chainTag", false)
		if err != nil {
			return err
		}
		if tag > 0xff {
			return chain.InvalidTx(`"chainTag" is not one byte`)
		}
		return checkTag(tag, testnet)
	}
	return nil
}

// quantity accepts what web3 configs hold for amounts: a JSON integer, or a
// string of decimal digits or 0x hex.
func quantity(v json.RawMessage) bool {
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		return chain.IsDecimal(n.String())
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return false
	}
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		return h != "" && chain.IsHex(strings.Repeat("0", len(h)%2)+h)
	}
	return chain.IsDecimal(s)
}
