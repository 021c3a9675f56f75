package tron

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Signer = (*Chain)(nil)

// Sign implements chain.Signer for a TronWeb transaction JSON (Tatum's and the
// native form are the same). The signature covers txID = sha256(raw_data_hex),
// so raw_data_hex is required and is what the checks read: every contract's
// owner_address in it must be the managed wallet, and the JSON raw_data (what
// the node's broadcast API decodes) must agree with it on owners, reference
// block and expiration. The output is the same JSON object, compact, with
// signature: [hex r‖s‖v] appended, v written 1B/1C as TronWeb 5 does.
func (c *Chain) Sign(ctx context.Context, req chain.SignRequest) (chain.Signed, error) {
	if err := ctx.Err(); err != nil {
		return chain.Signed{}, err
	}
	p, err := prepare(req.Serialized)
	if err != nil {
		return chain.Signed{}, err
	}
	if len(req.Keys) != 1 {
		return chain.Signed{}, fmt.Errorf("%w: a TRON transaction has one signer, got %d keys", chain.ErrInvalidKey, len(req.Keys))
	}
	key, err := chain.ParseHexKey(req.Keys[0], false)
	if err != nil {
		return chain.Signed{}, err
	}
	defer key.Zero()
	pub := key.PubKey()
	wallet := AddressBytes(pub)
	for i, ct := range p.rd.contracts {
		if !bytes.Equal(ct.owner, wallet) {
			return chain.Signed{}, fmt.Errorf("%w: contract %d owner_address %s is not the wallet %s",
				chain.ErrWrongSigner, i, showAddress(ct.owner), Address(pub))
		}
	}
	raw, members := p.raw, p.members

	id := sha256.Sum256(raw)
	compact := ecdsa.SignCompact(key, id[:], false) // [27+recid] ‖ r ‖ s, RFC 6979, low s
	sig := hex.EncodeToString(compact[1:]) + strings.ToUpper(hex.EncodeToString(compact[:1]))
	sigJSON, _ := json.Marshal([]string{sig})

	members = slices.DeleteFunc(members, func(m member) bool { return m.key == "signature" })
	members = append(members, member{"signature", sigJSON})
	return chain.Signed{TxData: string(encodeObject(members)), TxID: hex.EncodeToString(id[:])}, nil
}

// prepared is a transaction as Sign and Intent read it before any key is
// involved: its JSON members in order, the raw data the signature covers and
// what the checks read of it.
type prepared struct {
	members []member
	raw     []byte
	rd      *rawData
}

// prepare checks everything about a transaction that does not depend on the
// signing key: raw_data_hex present, complete and in agreement with the JSON
// raw_data, and not already signed.
func prepare(serialized string) (*prepared, error) {
	o, raw, err := validate(serialized)
	if err != nil {
		return nil, err
	}
	members, err := orderedObject(serialized)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, chain.InvalidTx("missing \"raw_data_hex\" (the bytes the signature covers)")
	}
	rd, err := parseRaw(raw)
	if err != nil {
		return nil, chain.InvalidTx("raw_data_hex: %s", err.Error())
	}
	if len(rd.contracts) == 0 {
		return nil, chain.InvalidTx("raw_data_hex has no contract")
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"ref_block_bytes", len(rd.refBlockBytes) > 0}, {"ref_block_hash", len(rd.refBlockHash) > 0}, {"expiration", rd.expiration != 0}} {
		if !f.set {
			return nil, chain.InvalidTx("missing %q (complete it from the node when the transaction is created)", f.name)
		}
	}
	if err := agree(o, rd); err != nil {
		return nil, err
	}
	for _, m := range members {
		if m.key == "signature" && !bytes.Equal(m.value, []byte("[]")) && !bytes.Equal(m.value, []byte("null")) {
			return nil, chain.InvalidTx("transaction is already signed")
		}
	}
	return &prepared{members: members, raw: raw, rd: rd}, nil
}

// encodeObject writes members as one compact JSON object, in their order.
func encodeObject(members []member) []byte {
	var out bytes.Buffer
	out.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			out.WriteByte(',')
		}
		writeKey(&out, m.key)
		out.Write(m.value)
	}
	out.WriteByte('}')
	return out.Bytes()
}

// agree checks the JSON raw_data against the protobuf raw data: the node
// builds the transaction it verifies from the JSON, so a JSON that says
// something else than raw_data_hex would at best be refused there.
func agree(o chain.JSONObject, rd *rawData) error {
	if !o.Has("raw_data") {
		return nil
	}
	j, err := o.Object("raw_data")
	if err != nil {
		return err
	}
	contracts, _ := j.Array("contract")
	if len(contracts) != len(rd.contracts) {
		return chain.InvalidTx("raw_data has %d contracts, raw_data_hex %d", len(contracts), len(rd.contracts))
	}
	for i, cj := range contracts {
		ct, _ := chain.ParseJSONObject(string(cj))
		p, _ := ct.Object("parameter")
		v, _ := p.Object("value")
		owner, _ := v.String("owner_address")
		// Both errors: the JSON names another signer than the signed
		// bytes, which makes the transaction itself invalid.
		if b := decodeAddress(owner); !bytes.Equal(b, rd.contracts[i].owner) {
			return fmt.Errorf("%w: %w: raw_data contract %d owner_address %s is not the one in raw_data_hex", chain.ErrWrongSigner, chain.ErrInvalidTx, i, owner)
		}
	}
	for _, f := range []struct {
		name string
		want []byte
	}{{"ref_block_bytes", rd.refBlockBytes}, {"ref_block_hash", rd.refBlockHash}} {
		s, _ := j.String(f.name)
		if b, _ := hex.DecodeString(s); !bytes.Equal(b, f.want) {
			return chain.InvalidTx("raw_data.%s differs from raw_data_hex", f.name)
		}
	}
	if exp, _ := j.Uint("expiration", false); int64(exp) != rd.expiration {
		return chain.InvalidTx("raw_data.expiration differs from raw_data_hex")
	}
	if j.Has("timestamp") {
		if ts, err := j.Uint("timestamp", false); err != nil || int64(ts) != rd.timestamp {
			return chain.InvalidTx("raw_data.timestamp differs from raw_data_hex")
		}
	}
	return nil
}

// AddressBytes is the 21-byte address (0x41 ‖ keccak address) of a public key.
func AddressBytes(pub *btcec.PublicKey) []byte { return prefixed(chain.KeccakAddress(pub)) }

// prefixed is the 21-byte address of a key's Keccak address.
func prefixed(a [20]byte) []byte { return append([]byte{addressPrefix}, a[:]...) }

// decodeAddress reads either address form TronWeb writes into 21 bytes.
func decodeAddress(s string) []byte {
	if b, err := hex.DecodeString(s); err == nil {
		return b
	}
	b, v, err := base58.CheckDecode(s)
	if err != nil || v != addressPrefix {
		return nil
	}
	return append([]byte{v}, b...)
}

func showAddress(b []byte) string {
	if len(b) == 21 && b[0] == addressPrefix {
		return base58.CheckEncode(b[1:], addressPrefix)
	}
	return hex.EncodeToString(b)
}

type member struct {
	key   string
	value []byte // compact JSON
}

// orderedObject reads a JSON object's members in order, values compacted, so
// the signed output keeps the input's field order the way TronWeb's
// JSON.stringify does. A repeated member is refused: parsers differ on which
// one wins.
func orderedObject(s string) ([]member, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, chain.InvalidTx("transaction is not a JSON object")
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		k, ok := t.(string)
		if err != nil || !ok {
			return nil, chain.InvalidTx("transaction is not a JSON object")
		}
		if seen[k] {
			return nil, chain.InvalidTx("member %q appears twice", k)
		}
		seen[k] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, chain.InvalidTx("transaction is not a JSON object")
		}
		var c bytes.Buffer
		if err := json.Compact(&c, raw); err != nil {
			return nil, chain.InvalidTx("transaction is not a JSON object")
		}
		out = append(out, member{k, c.Bytes()})
	}
	if _, err := dec.Token(); err != nil {
		return nil, chain.InvalidTx("transaction is not a JSON object")
	}
	return out, nil
}

func writeKey(b *bytes.Buffer, k string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(k)
	b.Truncate(b.Len() - 1) // Encode ends with a newline
	b.WriteByte(':')
}
