package egld

import (
	"encoding/base64"
	"encoding/json"
	"regexp"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.TxValidator = (*Chain)(nil)

// mainnetChainID is MultiversX mainnet's chainID; "T" (testnet) and "D" (devnet) are the others.
const mainnetChainID = "1"

// tatumValue is an EGLD amount as Tatum's JSON gives it: a decimal number of EGLD.
var tatumValue = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,18})?$`)

// ValidateTx implements chain.TxValidator. The native form is MultiversX's
// transaction JSON (it has "receiver"); the Tatum form is {from?, to, value,
// data?}, whose nonce, gas and chain id the node supplies.
func (c *Chain) ValidateTx(serialized string, testnet bool, _ ...uint64) error {
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return err
	}
	return checkTx(o, testnet)
}

// checkTx is ValidateTx on a parsed object, for ParseTx, which goes on reading it.
func checkTx(o chain.JSONObject, testnet bool) error {
	if o.Has("receiver") {
		return validateNative(o, testnet)
	}
	if !o.Has("to") {
		return chain.InvalidTx(`EGLD transaction needs "receiver" (native) or "to" (Tatum)`)
	}
	if err := address(o, "to"); err != nil {
		return err
	}
	if o.Has("from") {
		if err := address(o, "from"); err != nil {
			return err
		}
	}
	v, err := o.String("value")
	if err != nil {
		return err
	}
	if !tatumValue.MatchString(v) {
		return chain.InvalidTx("value is not a decimal amount of EGLD")
	}
	if o.Has("data") {
		var s string
		if json.Unmarshal(o["data"], &s) != nil {
			return chain.InvalidTx("data is not a string")
		}
	}
	return nil
}

func validateNative(o chain.JSONObject, testnet bool) error {
	for _, k := range []string{"receiver", "sender"} {
		if err := address(o, k); err != nil {
			return err
		}
	}
	v, err := o.String("value")
	if err != nil {
		return err
	}
	if !chain.IsDecimal(v) {
		return chain.InvalidTx("value is not an integer string of the smallest unit")
	}
	for _, k := range []string{"nonce", "gasPrice", "gasLimit", "version"} {
		if k == "nonce" && !o.Has(k) {
			continue // allocated by the server when queued; the signer refuses it missing
		}
		if _, err := o.Uint(k, false); err != nil {
			return err
		}
	}
	if o.Has("data") {
		d, err := o.String("data")
		if err == nil {
			_, err = base64.StdEncoding.DecodeString(d)
		}
		if err != nil {
			return chain.InvalidTx("data is not base64")
		}
	}
	id, err := o.String("chainID")
	if err != nil {
		return err
	}
	return checkNetwork(id, testnet)
}

// checkNetwork refuses a chainID of another network than the wallet's.
func checkNetwork(id string, testnet bool) error {
	if (id == mainnetChainID) == testnet {
		return chain.WrongNetwork("chainID %q on %s", id, chain.NetworkName(testnet))
	}
	return nil
}

func address(o chain.JSONObject, key string) error {
	s, err := o.String(key)
	if err != nil {
		return err
	}
	if _, err := DecodeAddress(s); err != nil {
		return chain.InvalidTx("%q is not an erd1 address", key)
	}
	return nil
}
