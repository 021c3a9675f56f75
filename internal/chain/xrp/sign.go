package xrp

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	binarycodec "github.com/Peersyst/xrpl-go/binary-codec"
	"github.com/Peersyst/xrpl-go/binary-codec/definitions"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Signer = (*Chain)(nil)

// Hash prefixes of the XRP Ledger (rippled HashPrefix.h): a single signature
// covers "STX\0" ‖ the signing fields; a transaction's id is the
// SHA-512Half of "TXN\0" ‖ the signed blob.
var (
	prefixSign = []byte("STX\x00")
	prefixTxID = []byte("TXN\x00")
)

// Sign implements chain.Signer for XRPL transaction JSON (Tatum's and the
// native form are the same). Account must be the managed wallet's classic
// address. The fields are encoded in the XRPL binary format by xrpl-go's
// codec; an unknown field is refused rather than dropped (the codec drops
// them, which would sign a transaction other than the one given). The output
// is the tx_blob in uppercase hex, txId its SHA-512Half with the TXN\0 prefix.
func (c *Chain) Sign(ctx context.Context, req chain.SignRequest) (chain.Signed, error) {
	if err := ctx.Err(); err != nil {
		return chain.Signed{}, err
	}
	tx, err := c.parse(req.Serialized, req.Testnet)
	if err != nil {
		return chain.Signed{}, err
	}
	if len(req.Keys) != 1 {
		return chain.Signed{}, fmt.Errorf("%w: an XRP transaction has one signer, got %d keys", chain.ErrInvalidKey, len(req.Keys))
	}
	key, err := ParseSeed(req.Keys[0])
	if err != nil {
		return chain.Signed{}, err
	}
	defer key.Zero()
	pub := key.PubKey()
	wallet := Address(pub)
	pubHex := strings.ToUpper(hex.EncodeToString(pub.SerializeCompressed()))

	if acct, _ := tx["Account"].(string); acct != wallet {
		return chain.Signed{}, fmt.Errorf("%w: Account %s is not the wallet %s", chain.ErrWrongSigner, acct, wallet)
	}
	if s, ok := tx["SigningPubKey"]; ok && s != "" && !strings.EqualFold(fmt.Sprint(s), pubHex) {
		return chain.Signed{}, fmt.Errorf("%w: SigningPubKey is not the wallet's public key", chain.ErrWrongSigner)
	}
	tx["SigningPubKey"] = pubHex

	typed, err := typedObject(tx)
	if err != nil {
		return chain.Signed{}, err
	}
	signing, err := encode(binarycodec.EncodeForSigning, typed)
	if err != nil {
		return chain.Signed{}, err
	}
	if !bytes.HasPrefix(signing, prefixSign) {
		return chain.Signed{}, fmt.Errorf("xrpl codec: signing data without the STX prefix")
	}
	sig := ecdsa.Sign(key, sha512Half(signing)) // RFC 6979, low s (fully canonical)
	tx["TxnSignature"] = strings.ToUpper(hex.EncodeToString(sig.Serialize()))
	if typed, err = typedObject(tx); err != nil {
		return chain.Signed{}, err
	}
	blob, err := encode(binarycodec.Encode, typed)
	if err != nil {
		return chain.Signed{}, err
	}
	if err := readsBack(blob); err != nil {
		return chain.Signed{}, err
	}
	id := sha512Half(append(append([]byte(nil), prefixTxID...), blob...))
	return chain.Signed{
		TxData: strings.ToUpper(hex.EncodeToString(blob)),
		TxID:   strings.ToUpper(hex.EncodeToString(id)),
	}, nil
}

// parse is what Sign and Intent read of a transaction before any key is
// involved: the checked, complete, unsigned transaction JSON, numbers kept
// as json.Number.
func (c *Chain) parse(serialized string, testnet bool) (map[string]any, error) {
	if err := c.ValidateTx(serialized, testnet); err != nil {
		return nil, err
	}
	if err := complete(serialized); err != nil {
		return nil, err
	}
	tx, err := decodeJSON(serialized)
	if err != nil {
		return nil, err
	}
	for _, f := range []string{"TxnSignature", "Signers"} {
		if _, ok := tx[f]; ok {
			return nil, chain.InvalidTx("transaction already carries %s", f)
		}
	}
	return tx, nil
}

// complete refuses a transaction without the fields every XRPL transaction
// carries: the server fills them when it is queued (Sequence allocated, Fee
// from the node), and a ledger would refuse a transaction without them.
// LastLedgerSequence is optional in the protocol and stays so here.
func complete(serialized string) error {
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return err
	}
	for _, k := range []string{"Sequence", "Fee"} {
		if !o.Has(k) {
			return chain.InvalidTx("missing %s (the server completes it when the transaction is queued)", k)
		}
	}
	return nil
}

// TxID is the id of a signed tx_blob given in hex.
func TxID(blobHex string) (string, error) {
	blob, err := hex.DecodeString(blobHex)
	if err != nil || len(blob) == 0 {
		return "", chain.InvalidTx("tx_blob is not hex")
	}
	return strings.ToUpper(hex.EncodeToString(sha512Half(append(append([]byte(nil), prefixTxID...), blob...)))), nil
}

func sha512Half(b []byte) []byte {
	h := sha512.Sum512(b)
	return h[:32]
}

// encode runs one of the codec's encoders. The codec asserts Go types of
// values without checking, so a panic in it is turned into an error about
// the transaction rather than a crash of the signer.
func encode(f func(map[string]any) (string, error), tx map[string]any) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, chain.InvalidTx("a field has a value of the wrong type for the XRPL binary format")
		}
	}()
	h, err := f(tx)
	if err != nil {
		return nil, chain.InvalidTx("XRPL binary format: %s", err.Error())
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("xrpl codec: output is not hex")
	}
	return b, nil
}

// readsBack decodes a blob the codec wrote: some malformed values (an empty
// path, for one) encode into bytes that no XRPL decoder reads, and such a
// transaction is refused rather than signed.
func readsBack(blob []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = chain.InvalidTx("the XRPL encoding of this transaction does not decode")
		}
	}()
	if _, err := binarycodec.Decode(hex.EncodeToString(blob)); err != nil {
		return chain.InvalidTx("the XRPL encoding of this transaction does not decode: %s", err.Error())
	}
	return nil
}

func decodeJSON(s string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var tx map[string]any
	if err := dec.Decode(&tx); err != nil || tx == nil || dec.More() {
		return nil, chain.InvalidTx("transaction is not one JSON object")
	}
	return tx, nil
}

// typedObject copies an XRPL JSON object into the Go types the codec
// expects for each field's type (UInt8 and UInt16 as int, UInt32 as uint32,
// nested objects and arrays alike), checking ranges; unknown fields are
// refused.
func typedObject(o map[string]any) (map[string]any, error) {
	defs := definitions.Get()
	out := make(map[string]any, len(o))
	for k, v := range o {
		fi, err := defs.GetFieldInstanceByFieldName(k)
		if err != nil || fi.FieldInfo == nil {
			return nil, chain.InvalidTx("unknown XRPL field %q", k)
		}
		if !fi.IsSerialized {
			return nil, chain.InvalidTx("field %q is not part of a transaction", k)
		}
		tv, err := typedValue(k, fi.Type, v)
		if err != nil {
			return nil, err
		}
		out[k] = tv
	}
	return out, nil
}

func typedValue(name, typ string, v any) (any, error) {
	switch typ {
	case "UInt8", "UInt16", "UInt32":
		if s, ok := v.(string); ok && typ != "UInt32" {
			return s, nil // TransactionType and TransactionResult by name
		}
		limit := map[string]uint64{"UInt8": math.MaxUint8, "UInt16": math.MaxUint16, "UInt32": math.MaxUint32}[typ]
		n, ok := v.(json.Number)
		if !ok {
			return nil, chain.InvalidTx("%q is not a number", name)
		}
		u, err := parseUint(n.String(), limit)
		if err != nil {
			return nil, chain.InvalidTx("%q is not an integer in 0..%d", name, limit)
		}
		if typ == "UInt32" {
			return uint32(u), nil
		}
		return int(u), nil
	case "STObject":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, chain.InvalidTx("%q is not an object", name)
		}
		return typedObject(m)
	case "STArray":
		a, ok := v.([]any)
		if !ok {
			return nil, chain.InvalidTx("%q is not an array", name)
		}
		out := make([]any, len(a))
		for i, e := range a {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, chain.InvalidTx("%q[%d] is not an object", name, i)
			}
			t, err := typedObject(m)
			if err != nil {
				return nil, err
			}
			out[i] = t
		}
		return out, nil
	case "Amount":
		switch x := v.(type) {
		case string:
			return x, nil
		case map[string]any:
			return numbersToStrings(x), nil
		}
		return nil, chain.InvalidTx("%q is not an amount (drops string or object)", name)
	case "Vector256":
		a, ok := v.([]any)
		if !ok {
			return nil, chain.InvalidTx("%q is not an array", name)
		}
		out := make([]string, len(a))
		for i, e := range a {
			if out[i], ok = e.(string); !ok {
				return nil, chain.InvalidTx("%q[%d] is not a string", name, i)
			}
		}
		return out, nil
	case "PathSet", "Issue", "XChainBridge":
		return numbersToStrings(v), nil
	default: // hashes, blobs, accounts, currencies, UInt64: strings in XRPL JSON
		s, ok := v.(string)
		if !ok {
			return nil, chain.InvalidTx("%q is not a string", name)
		}
		return s, nil
	}
}

func numbersToStrings(v any) any {
	switch x := v.(type) {
	case json.Number:
		return x.String()
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = numbersToStrings(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = numbersToStrings(e)
		}
		return out
	}
	return v
}

func parseUint(s string, limit uint64) (uint64, error) {
	if !chain.IsDecimal(s) || len(s) > 20 {
		return 0, fmt.Errorf("not decimal")
	}
	var n uint64
	for i := range len(s) {
		d := uint64(s[i] - '0')
		if n > (limit-d)/10 {
			return 0, fmt.Errorf("out of range")
		}
		n = n*10 + d
	}
	return n, nil
}
