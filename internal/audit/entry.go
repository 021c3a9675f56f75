// Package audit keeps Custos's audit log: an append-only file of JSON lines,
// each entry chained to the one before it by a SHA-256 hash, so that an entry
// edited, removed, inserted or moved anywhere but at the very end is found by
// Verify, and the end itself is anchored by a head file (docs/design.md §7.4).
//
// The log records decisions and key uses of the signer daemon and the
// administrative acts of the CLI. It never holds a secret: callers put
// identifiers in it (signature IDs, pending ids, API key ids, digests), never
// keys, mnemonics, passwords or API key values.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/custoskms/custos/internal/jsonenc"
)

// Genesis is the prev of the first entry: hex SHA-256 of "custos audit log v1".
const Genesis = "5f12fc592927b69b02fe692a761523fcf96fd8a768173cdec76f3782fe711063"

// MaxLine bounds one entry's line, newline excluded; Append refuses longer
// entries so that Verify can always read what Append wrote.
const MaxLine = 16 << 20

// Event is what a caller records: a type ("key.use", "wallet.added") and its
// fields. Field values are strings, numbers, booleans, or lists and objects
// of them; never a secret.
type Event struct {
	Type   string
	Fields map[string]any
}

// Entry is one line of the log. Its Hash is the hex SHA-256 of the entry's
// canonical bytes without the hash: the JSON encoding of the entry (fields in
// this order, object keys sorted, as encoding/json writes them) with "hash"
// left out. The line is the same encoding with "hash" last.
type Entry struct {
	Seq    uint64         `json:"seq"`
	Time   string         `json:"time"`
	Actor  string         `json:"actor"`
	User   string         `json:"user,omitempty"`
	PID    int            `json:"pid"`
	Event  string         `json:"event"`
	Fields map[string]any `json:"fields,omitempty"`
	Prev   string         `json:"prev"`
	Hash   string         `json:"hash,omitempty"`
}

// seal sets e.Hash and returns the entry's line, without its newline. The
// canonical bytes are appendCanonical's, json.Marshal's encoding without
// "hash"; the line is those bytes with "hash" added last, which is what
// json.Marshal writes for the entry once its hash is set (the field is last
// and its value, hex digits, needs no escape): one encoding per entry.
func (e *Entry) seal() ([]byte, error) {
	return e.appendSealed(make([]byte, 0, 512))
}

// appendSealed is seal appending the line to b: a commit writes its
// entries' lines into one buffer. The line is the result's bytes from b's
// length on.
func (e *Entry) appendSealed(b []byte) ([]byte, error) {
	e.Hash = ""
	start := len(b)
	b, err := e.appendCanonical(b)
	if err != nil {
		return nil, fmt.Errorf("audit entry %q: %w", e.Event, err)
	}
	sum := sha256.Sum256(b[start:])
	e.Hash = hex.EncodeToString(sum[:])
	b = append(b[:len(b)-1], `,"hash":"`...)
	b = append(b, e.Hash...)
	b = append(b, `"}`...)
	if n := len(b) - start; n > MaxLine {
		return nil, fmt.Errorf("%w: %s entry of %d bytes", ErrTooLarge, e.Event, n)
	}
	return b, nil
}

// appendCanonical appends e without its hash as json.Marshal encodes an
// Entry whose Hash is empty, byte for byte: the fields in their order,
// "user" and "fields" left out when empty, the fields' keys sorted as
// json.Marshal sorts a map's (bytewise) and their values as it writes them
// (jsonenc.Value).
func (e *Entry) appendCanonical(b []byte) ([]byte, error) {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"time":`...)
	b = jsonenc.String(b, e.Time)
	b = append(b, `,"actor":`...)
	b = jsonenc.String(b, e.Actor)
	if e.User != "" {
		b = append(b, `,"user":`...)
		b = jsonenc.String(b, e.User)
	}
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(e.PID), 10)
	b = append(b, `,"event":`...)
	b = jsonenc.String(b, e.Event)
	if len(e.Fields) > 0 {
		b = append(b, `,"fields":{`...)
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.String(b, k)
			b = append(b, ':')
			var err error
			if b, err = jsonenc.Value(b, e.Fields[k]); err != nil {
				return nil, err
			}
		}
		b = append(b, '}')
	}
	b = append(b, `,"prev":`...)
	b = jsonenc.String(b, e.Prev)
	return append(b, '}'), nil
}

// ParseLine reads one line (without its newline) strictly: the line must be
// exactly the canonical encoding of the entry it holds, and its hash must be
// that entry's. A line that decodes but differs from its canonical form
// (duplicate or case-variant keys, other spacing, unknown members) is
// refused, so that no two lines read as the same entry.
func ParseLine(line []byte) (Entry, error) {
	var e Entry
	if len(line) > MaxLine {
		return e, fmt.Errorf("line of %d bytes is longer than %d", len(line), MaxLine)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber() // numbers keep the digits they were written with
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("not an entry: %w", err)
	}
	if dec.More() {
		return Entry{}, fmt.Errorf("not an entry: data after the object")
	}
	if !isHash(e.Hash) || !isHash(e.Prev) {
		return Entry{}, fmt.Errorf("not an entry: hash and prev must be 64 lowercase hex digits")
	}
	stored := e.Hash
	canon, err := e.seal()
	if err != nil {
		return Entry{}, fmt.Errorf("not an entry: %w", err)
	}
	if e.Hash != stored {
		return Entry{}, fmt.Errorf("hash does not match the entry's content: edited")
	}
	if !bytes.Equal(canon, line) {
		return Entry{}, fmt.Errorf("not in canonical form: edited")
	}
	return e, nil
}

func isHash(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
