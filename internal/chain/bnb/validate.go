package bnb

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.TxValidator = (*Chain)(nil)

// Chain ids of the Beacon Chain networks.
const (
	mainnetChainID = "Binance-Chain-Tigris"
	testnetChainID = "Binance-Chain-Ganges"
)

// maxMemo is the Beacon Chain's memo limit in bytes.
const maxMemo = 128

// ValidateTx implements chain.TxValidator. The Tatum form is what
// BncClient.transfer builds: {msg, signMsg, memo} (msg holds addresses as
// serialized Buffers, signMsg as bech32); the native form is a StdSignMsg
// {account_number, chain_id, memo, msgs, sequence, source, data}.
func (c *Chain) ValidateTx(serialized string, testnet bool, _ ...uint64) error {
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return err
	}
	return checkTx(o, testnet)
}

// checkTx is ValidateTx on a parsed object, for ParseTransfer, which goes on reading it.
func checkTx(o chain.JSONObject, testnet bool) error {
	if o.Has("memo") {
		var m string
		if json.Unmarshal(o["memo"], &m) != nil || len(m) > maxMemo || !utf8.ValidString(m) {
			return chain.InvalidTx("memo is not a string of at most %d bytes", maxMemo)
		}
	}
	if o.Has("msgs") {
		return validateNative(o, testnet)
	}
	if !o.Has("msg") {
		return chain.InvalidTx(`BNB transaction needs "msg" (Tatum) or "msgs" (StdSignMsg)`)
	}
	msg, err := o.Object("msg")
	if err != nil {
		return err
	}
	for _, k := range []string{"inputs", "outputs"} {
		if _, err := msg.Array(k); err != nil {
			return err
		}
	}
	if msg.Has("aminoPrefix") {
		p, err := msg.String("aminoPrefix")
		if err != nil || len(p) != 8 || !chain.IsHex(p) {
			return chain.InvalidTx("aminoPrefix is not 4 bytes of hex")
		}
	}
	if !o.Has("signMsg") {
		return nil
	}
	sm, err := o.Object("signMsg")
	if err != nil {
		return err
	}
	return transfer(sm, testnet)
}

func validateNative(o chain.JSONObject, testnet bool) error {
	msgs, err := o.Array("msgs")
	if err != nil {
		return err
	}
	for _, m := range msgs {
		mo, err := chain.ParseJSONObject(string(m))
		if err != nil {
			return chain.InvalidTx("a msgs entry is not an object")
		}
		if err := transfer(mo, testnet); err != nil {
			return err
		}
	}
	for _, k := range []string{"account_number", "sequence"} {
		if _, err := o.Uint(k, true); err != nil {
			return err
		}
	}
	id, err := o.String("chain_id")
	if err != nil {
		return err
	}
	if (id == mainnetChainID && testnet) || (id == testnetChainID && !testnet) {
		return chain.WrongNetwork("chain_id %q", id)
	}
	return nil
}

// transfer checks the inputs and outputs of a MsgSend in its JSON (sign-bytes) form.
func transfer(m chain.JSONObject, testnet bool) error {
	for _, side := range []string{"inputs", "outputs"} {
		items, err := m.Array(side)
		if err != nil {
			return err
		}
		for _, it := range items {
			io, err := chain.ParseJSONObject(string(it))
			if err != nil {
				return chain.InvalidTx("an %s entry is not an object", side)
			}
			a, err := io.String("address")
			if err != nil {
				return err
			}
			if _, err := DecodeAddress(a, testnet); err != nil {
				if _, other := DecodeAddress(a, !testnet); other == nil {
					return chain.WrongNetwork("%s address is for the other network", side)
				}
				return chain.InvalidTx("%s address is not a %s1 address", side, HRP(testnet))
			}
			coins, err := io.Array("coins")
			if err != nil {
				return err
			}
			for _, cj := range coins {
				co, err := chain.ParseJSONObject(string(cj))
				if err != nil {
					return chain.InvalidTx("a coin is not an object")
				}
				d, err := co.String("denom")
				if err != nil {
					return err
				}
				if strings.ContainsAny(d, " \t\n\"") {
					return chain.InvalidTx("denom is not a token symbol")
				}
				if _, err := co.Uint("amount", true); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
