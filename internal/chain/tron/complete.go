package tron

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Windowed = (*Chain)(nil)

var _ chain.Completer = (*Chain)(nil)

// ExpirationWindow is how long after its reference block a completed
// transaction stays valid. java-tron refuses an expiration more than 24 hours
// past its head block; 12 hours leaves room for nodes a little behind the one
// asked and for an approval that takes a working day, while a transaction
// nobody approved in that time is reported expired rather than kept.
const ExpirationWindow = 12 * time.Hour

// Block is what completion needs of a TRON block: its id (32 bytes, the
// first 8 of which are the height), height and timestamp in milliseconds.
type Block struct {
	ID        [32]byte
	Number    int64
	Timestamp int64
}

// Node is the part of a TRON full node's HTTP API that completion and the
// expiry check ask: POST /wallet/getnowblock.
type Node interface {
	NowBlock(ctx context.Context) (Block, error)
}

// windowed are the raw_data fields a node fills, by their JSON names, in
// protobuf field order; timestamp is optional for the protocol and is filled
// alongside the others but never reported missing on its own.
var windowed = []string{"ref_block_bytes", "ref_block_hash", "expiration"}

// MissingFields lists the reference block fields and expiration that neither
// raw_data nor raw_data_hex carries (nil when the transaction is complete).
func (c *Chain) MissingFields(serialized string) ([]string, error) {
	o, raw, err := validate(serialized)
	if err != nil {
		return nil, err
	}
	have, err := present(o, raw)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, k := range windowed {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	return missing, nil
}

// present tells which windowed fields (and timestamp) the transaction sets:
// raw_data_hex is what is signed, so it decides when given.
func present(o chain.JSONObject, raw []byte) (map[string]bool, error) {
	if raw != nil {
		rd, err := parseRaw(raw)
		if err != nil {
			return nil, chain.InvalidTx("raw_data_hex: %s", err.Error())
		}
		return map[string]bool{"ref_block_bytes": len(rd.refBlockBytes) > 0, "ref_block_hash": len(rd.refBlockHash) > 0,
			"expiration": rd.expiration != 0, "timestamp": rd.timestamp != 0}, nil
	}
	j, err := o.Object("raw_data")
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, k := range append(windowed, "timestamp") {
		have[k] = j.Has(k)
	}
	return have, nil
}

// CompleteFromNode fills the reference block (ref_block_bytes, the low two
// bytes of the now block's height; ref_block_hash, bytes 8–16 of its id),
// expiration (the block's time + ExpirationWindow) and timestamp (the block's
// time) where the transaction leaves them out, in raw_data_hex (re-encoded,
// since it is what is signed), in raw_data, and recomputes txID. node must
// answer Node's method. A transaction without raw_data_hex cannot be
// completed: its contracts would have to be encoded here.
func (c *Chain) CompleteFromNode(ctx context.Context, node any, serialized string, _ bool, _ ...uint64) (string, error) {
	return complete(ctx, node, serialized)
}

// Expired reports whether the transaction's expiration is at or before the
// time of the node's now block, after which java-tron refuses it. A
// transaction without an expiration has not expired: it is incomplete.
func (c *Chain) Expired(ctx context.Context, node any, serialized string) (bool, error) {
	o, raw, err := validate(serialized)
	if err != nil {
		return false, err
	}
	var exp int64
	if raw != nil {
		rd, err := parseRaw(raw)
		if err != nil {
			return false, chain.InvalidTx("raw_data_hex: %s", err.Error())
		}
		exp = rd.expiration
	} else if j, err := o.Object("raw_data"); err == nil && j.Has("expiration") {
		e, err := j.Uint("expiration", false)
		if err != nil {
			return false, err
		}
		exp = int64(e)
	}
	if exp == 0 {
		return false, nil
	}
	n, err := asNode(node)
	if err != nil {
		return false, err
	}
	b, err := n.NowBlock(ctx)
	if err != nil {
		return false, err
	}
	return b.Timestamp >= exp, nil
}

func asNode(node any) (Node, error) {
	n, ok := node.(Node)
	if !ok {
		return nil, fmt.Errorf("the TRON node client cannot complete transactions (no /wallet/getnowblock)")
	}
	return n, nil
}

// complete fills the fields the transaction lacks.
func complete(ctx context.Context, node any, serialized string) (string, error) {
	o, raw, err := validate(serialized)
	if err != nil {
		return "", err
	}
	have, err := present(o, raw)
	if err != nil {
		return "", err
	}
	if have["ref_block_bytes"] && have["ref_block_hash"] && have["expiration"] && have["timestamp"] {
		return serialized, nil
	}
	if raw == nil {
		return "", chain.InvalidTx("missing \"raw_data_hex\": only a transaction with its protobuf raw data can be completed")
	}
	n, err := asNode(node)
	if err != nil {
		return "", err
	}
	b, err := n.NowBlock(ctx)
	if err != nil {
		return "", err
	}
	if b.Timestamp <= 0 || b.Number <= 0 {
		return "", fmt.Errorf("the TRON node's now block has no height or time")
	}
	var height [8]byte
	binary.BigEndian.PutUint64(height[:], uint64(b.Number))
	fill := map[string]json.RawMessage{}
	set := map[protowire.Number][]byte{}
	if !have["ref_block_bytes"] {
		set[rawRefBlockBytes] = height[6:8]
		fill["ref_block_bytes"] = jsonString(hex.EncodeToString(height[6:8]))
	}
	if !have["ref_block_hash"] {
		set[rawRefBlockHash] = b.ID[8:16]
		fill["ref_block_hash"] = jsonString(hex.EncodeToString(b.ID[8:16]))
	}
	if !have["expiration"] {
		exp := b.Timestamp + ExpirationWindow.Milliseconds()
		set[rawExpiration] = protowire.AppendVarint(nil, uint64(exp))
		fill["expiration"] = json.RawMessage(strconv.FormatInt(exp, 10))
	}
	if !have["timestamp"] {
		set[rawTimestamp] = protowire.AppendVarint(nil, uint64(b.Timestamp))
		fill["timestamp"] = json.RawMessage(strconv.FormatInt(b.Timestamp, 10))
	}
	newRaw, err := rewriteRaw(raw, set)
	if err != nil {
		return "", err
	}
	members, err := orderedObject(serialized)
	if err != nil {
		return "", err
	}
	if i := slices.IndexFunc(members, func(m member) bool { return m.key == "raw_data" }); i >= 0 {
		rd, err := orderedObject(string(members[i].value))
		if err != nil {
			return "", chain.InvalidTx("raw_data is not a JSON object")
		}
		for _, k := range append(windowed, "timestamp") {
			if v, ok := fill[k]; ok {
				rd = setMember(rd, k, v)
			}
		}
		members[i].value = encodeObject(rd)
	}
	id := sha256.Sum256(newRaw)
	members = setMember(members, "raw_data_hex", jsonString(hex.EncodeToString(newRaw)))
	members = setMember(members, "txID", jsonString(hex.EncodeToString(id[:])))
	out := string(encodeObject(members))
	// The result must pass what the signer checks, raw_data against raw_data_hex included.
	if _, _, err := validate(out); err != nil {
		return "", err
	}
	return out, nil
}

// rewriteRaw re-encodes Transaction.raw with the fields in set (already
// encoded payloads: bytes for 1 and 4, varints for 8 and 14) replacing any
// present, in ascending field order as java-tron serializes, so that the
// node's own encoding of the JSON gives the same bytes and txID.
func rewriteRaw(raw []byte, set map[protowire.Number][]byte) ([]byte, error) {
	type field struct {
		num protowire.Number
		enc []byte
	}
	var fs []field
	for b := raw; len(b) > 0; {
		num, _, l := protowire.ConsumeField(b)
		if l < 0 {
			return nil, chain.InvalidTx("raw_data_hex: %s", protowire.ParseError(l).Error())
		}
		if _, replaced := set[num]; !replaced {
			fs = append(fs, field{num, b[:l]})
		}
		b = b[l:]
	}
	for num, v := range set {
		var enc []byte
		if num == rawRefBlockBytes || num == rawRefBlockHash {
			enc = protowire.AppendTag(enc, num, protowire.BytesType)
			enc = protowire.AppendBytes(enc, v)
		} else {
			enc = protowire.AppendTag(enc, num, protowire.VarintType)
			enc = append(enc, v...)
		}
		fs = append(fs, field{num, enc})
	}
	slices.SortStableFunc(fs, func(a, b field) int { return int(a.num) - int(b.num) })
	var out bytes.Buffer
	for _, f := range fs {
		out.Write(f.enc)
	}
	return out.Bytes(), nil
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// setMember replaces a member's value in place, or appends the member.
func setMember(ms []member, key string, v json.RawMessage) []member {
	for i := range ms {
		if ms[i].key == key {
			ms[i].value = v
			return ms
		}
	}
	return append(ms, member{key, v})
}
