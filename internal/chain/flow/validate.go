package flow

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.TxValidator = (*Chain)(nil)

// maxTatumType is the last FlowTxType of Tatum's SDK (CREATE_ACCOUNT = 0 …
// TRANSFER_NFT = 7, CUSTOM_TX = 8).
const maxTatumType = 8

// ValidateTx implements chain.TxValidator. The Tatum form is {type, body}
// (type a FlowTxType number; the SDK builds the transaction from body); the
// native form is a Flow transaction as the Access API's REST interface writes
// it: script (base64), arguments, reference_block_id, gas_limit, payer,
// proposal_key and authorizers, with the signatures made so far and, for
// signing, a "signer" naming the account key the wallet holds (see Sign).
func (c *Chain) ValidateTx(serialized string, _ bool, _ ...uint64) error {
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return err
	}
	return checkTx(o)
}

// checkTx is ValidateTx on a parsed object, for ParseTx, which goes on reading it.
func checkTx(o chain.JSONObject) error {
	if o.Has("type") || o.Has("body") {
		t, err := o.Uint("type", false)
		if err != nil {
			return err
		}
		if t > maxTatumType {
			return chain.InvalidTx("unknown Tatum FLOW transaction type %d", t)
		}
		_, err = o.Object("body")
		return err
	}
	if !o.Has("script") {
		return chain.InvalidTx(`FLOW transaction needs "script" (native) or "type" and "body" (Tatum)`)
	}
	script, err := o.String("script")
	if err != nil {
		return err
	}
	if _, err := base64.StdEncoding.DecodeString(script); err != nil {
		return chain.InvalidTx("script is not base64")
	}
	if o.Has("arguments") {
		var args []string
		if json.Unmarshal(o["arguments"], &args) != nil {
			return chain.InvalidTx("arguments is not an array of base64 strings")
		}
		for _, a := range args {
			if _, err := base64.StdEncoding.DecodeString(a); err != nil {
				return chain.InvalidTx("an argument is not base64")
			}
		}
	}
	id, err := o.String("reference_block_id")
	if err != nil {
		return err
	}
	if len(id) != 64 || !chain.IsHex(id) {
		return chain.InvalidTx("reference_block_id is not 32 bytes of hex")
	}
	if _, err := o.Uint("gas_limit", true); err != nil {
		return err
	}
	if err := address(o, "payer"); err != nil {
		return err
	}
	pk, err := o.Object("proposal_key")
	if err != nil {
		return err
	}
	if err := address(pk, "address"); err != nil {
		return err
	}
	for _, k := range []string{"key_index", "sequence_number"} {
		if _, err := pk.Uint(k, true); err != nil {
			return err
		}
	}
	var auth []string
	if json.Unmarshal(o["authorizers"], &auth) != nil {
		return chain.InvalidTx("authorizers is not an array of addresses")
	}
	for _, a := range auth {
		if !validAddress(a) {
			return chain.InvalidTx("an authorizer is not a Flow address")
		}
	}
	for _, k := range []string{"payload_signatures", "envelope_signatures"} {
		if _, err := signatures(o, k); err != nil {
			return err
		}
	}
	if o.Has("signer") {
		_, err := parseSigner(o)
		return err
	}
	return nil
}

func address(o chain.JSONObject, key string) error {
	s, err := o.String(key)
	if err != nil {
		return err
	}
	if !validAddress(s) {
		return chain.InvalidTx("%q is not a Flow address", key)
	}
	return nil
}

// validAddress accepts an 8-byte Flow address in hex, with or without 0x.
func validAddress(s string) bool {
	s = strings.TrimPrefix(s, "0x")
	return len(s) == 16 && chain.IsHex(s)
}
