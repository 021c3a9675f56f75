package tron

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.TxValidator = (*Chain)(nil)

// ValidateTx implements chain.TxValidator for a TronWeb transaction JSON (the
// Tatum and the native form are the same): raw_data with its contracts, or
// raw_data_hex; when both txID and raw_data_hex are given the id must be
// sha256 of the raw data, since the id is what gets signed.
func (c *Chain) ValidateTx(serialized string, _ bool, _ ...uint64) error {
	_, _, err := validate(serialized)
	return err
}

// validate is ValidateTx returning what Sign goes on with: the parsed object
// and the decoded raw_data_hex (nil when absent).
func validate(serialized string) (chain.JSONObject, []byte, error) {
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return nil, nil, err
	}
	if !o.Has("raw_data") && !o.Has("raw_data_hex") {
		return nil, nil, chain.InvalidTx("TRON transaction needs raw_data or raw_data_hex")
	}
	var raw []byte
	if o.Has("raw_data_hex") {
		h, err := o.String("raw_data_hex")
		if err != nil {
			return nil, nil, err
		}
		if raw, err = hex.DecodeString(h); err != nil {
			return nil, nil, chain.InvalidTx("raw_data_hex is not hex")
		}
	}
	if o.Has("txID") {
		id, err := o.String("txID")
		if err != nil {
			return nil, nil, err
		}
		b, err := hex.DecodeString(id)
		if err != nil || len(b) != sha256.Size {
			return nil, nil, chain.InvalidTx("txID is not 32 bytes of hex")
		}
		if raw != nil {
			if sum := sha256.Sum256(raw); !bytes.Equal(sum[:], b) {
				return nil, nil, chain.InvalidTx("txID is not sha256 of raw_data_hex")
			}
		}
	}
	if !o.Has("raw_data") {
		return o, raw, nil
	}
	rd, err := o.Object("raw_data")
	if err != nil {
		return nil, nil, err
	}
	contracts, err := rd.Array("contract")
	if err != nil {
		return nil, nil, err
	}
	for _, cj := range contracts {
		ct, err := chain.ParseJSONObject(string(cj))
		if err != nil {
			return nil, nil, chain.InvalidTx("raw_data.contract entry is not an object")
		}
		if _, err := ct.String("type"); err != nil {
			return nil, nil, err
		}
		p, err := ct.Object("parameter")
		if err != nil {
			return nil, nil, err
		}
		v, err := p.Object("value")
		if err != nil {
			return nil, nil, err
		}
		owner, err := v.String("owner_address")
		if err != nil {
			return nil, nil, err
		}
		if !validAddress(owner) {
			return nil, nil, chain.InvalidTx("owner_address is not a TRON address")
		}
	}
	// The reference block and expiration may be left out for the server to
	// fill from a node (CompleteFromNode); Sign refuses them missing.
	for _, k := range []string{"ref_block_bytes", "ref_block_hash"} {
		if !rd.Has(k) {
			continue
		}
		s, err := rd.String(k)
		if err != nil {
			return nil, nil, err
		}
		if !chain.IsHex(s) {
			return nil, nil, chain.InvalidTx("%q is not hex", k)
		}
	}
	for _, k := range []string{"expiration", "timestamp"} {
		if rd.Has(k) {
			if _, err := rd.Uint(k, false); err != nil {
				return nil, nil, err
			}
		}
	}
	return o, raw, nil
}

// validAddress accepts both forms TronWeb writes: hex 41… (visible=false) and base58check T….
func validAddress(s string) bool {
	if b, err := hex.DecodeString(s); err == nil {
		return len(b) == 21 && b[0] == addressPrefix
	}
	b, v, err := base58.CheckDecode(s)
	return err == nil && v == addressPrefix && len(b) == 20
}
