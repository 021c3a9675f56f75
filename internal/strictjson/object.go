package strictjson

import (
	"encoding/json"
	"errors"
)

// ErrNotObject is Object's error for JSON that Check accepts but that is
// not an object.
var ErrNotObject = errors.New("JSON: not an object")

// Object is Check and a decode of b's top-level object into its members in
// one reading: it refuses what Check refuses, with Check's error, and
// returns the members as json.Unmarshal into a map[string]json.RawMessage
// would (ErrNotObject for JSON that is not an object). A signer that decodes
// what it checks from the same reading cannot check one document and sign
// another, and reads the bytes once instead of twice (Check's token reader
// allocates for every token: it costs more than the decode).
//
// The members' bytes are b's: b must not change while they are used.
func Object(b []byte) (map[string]json.RawMessage, error) {
	if m, ok := plainObject(b); ok {
		return m, nil
	}
	// What the quick reader does not take (an error of any kind, a key that
	// is not plain ASCII, deep nesting, an object with many keys) is read
	// by Check and the standard decoder, so that what Object accepts and
	// the errors it gives are theirs.
	if err := tokenCheck(b); err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, ErrNotObject
	}
	return m, nil
}

// The quick reader's limits: past them Object leaves the document to Check.
const (
	plainDepth = 32 // objects and arrays around a value
	plainKeys  = 32 // keys of one object, compared pairwise
)

// plainObject reads b when it is one JSON object whose keys, at every
// depth, are printable ASCII without escapes and pairwise distinct under
// ASCII case folding. Among such keys that is the folding Check applies:
// the non-ASCII runes that fold to ASCII letters (Kelvin sign, long s)
// are not in them. ok is false for anything else, valid or not; the
// caller reads it again with Check. Its grammar is encoding/json's:
// whitespace is space, tab, CR and LF; strings may hold any byte from 0x20
// up but '"' and '\' unescaped; numbers have no leading zero, '+' or bare
// '.'.
func plainObject(b []byte) (_ map[string]json.RawMessage, ok bool) {
	r := reader{b: b}
	r.space()
	m := map[string]json.RawMessage{}
	if !r.object(0, m) {
		return nil, false
	}
	r.space()
	return m, r.i == len(b)
}

// plainValue reports whether b is one JSON value, whitespace around it
// aside, that the quick reader takes (plainObject's rules, at any depth):
// Check accepts such a value.
func plainValue(b []byte) bool {
	r := reader{b: b}
	r.space()
	if !r.value(0) {
		return false
	}
	r.space()
	return r.i == len(b)
}

type reader struct {
	b []byte
	i int
}

func (r *reader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// next reports whether the next byte is c, and consumes it if so.
func (r *reader) next(c byte) bool {
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// object reads an object at r.i; members, when not nil, receives its
// members (the top level's).
func (r *reader) object(depth int, members map[string]json.RawMessage) bool {
	if depth >= plainDepth || !r.next('{') {
		return false
	}
	var keys [plainKeys][]byte
	n := 0
	r.space()
	if r.next('}') {
		return true
	}
	for {
		key, ok := r.plainKey()
		if !ok || n == plainKeys {
			return false
		}
		for _, k := range keys[:n] {
			if asciiEqualFold(k, key) {
				return false // Check names it
			}
		}
		keys[n] = key
		n++
		r.space()
		if !r.next(':') {
			return false
		}
		r.space()
		start := r.i
		if !r.value(depth + 1) {
			return false
		}
		if members != nil {
			members[string(key)] = r.b[start:r.i:r.i]
		}
		r.space()
		if r.next('}') {
			return true
		}
		if !r.next(',') {
			return false
		}
		r.space()
	}
}

// PlainString is the text of v when v is exactly one JSON string of
// printable ASCII without escapes (the quick reader's keys), which reads as
// itself; ok is false for anything else.
func PlainString(v []byte) (_ string, ok bool) {
	r := reader{b: v}
	key, ok := r.plainKey()
	if !ok || r.i != len(v) {
		return "", false
	}
	return string(key), true
}

// plainKey reads a string of printable ASCII without escapes and returns
// its bytes between the quotes.
func (r *reader) plainKey() ([]byte, bool) {
	if !r.next('"') {
		return nil, false
	}
	start := r.i
	for ; r.i < len(r.b); r.i++ {
		switch c := r.b[r.i]; {
		case c == '"':
			r.i++
			return r.b[start : r.i-1], true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, false
		}
	}
	return nil, false
}

func (r *reader) value(depth int) bool {
	if r.i >= len(r.b) {
		return false
	}
	switch c := r.b[r.i]; {
	case c == '{':
		return r.object(depth, nil)
	case c == '[':
		return r.array(depth)
	case c == '"':
		return r.str()
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return r.number()
	}
	return false
}

func (r *reader) array(depth int) bool {
	if depth >= plainDepth || !r.next('[') {
		return false
	}
	r.space()
	if r.next(']') {
		return true
	}
	for {
		if !r.value(depth + 1) {
			return false
		}
		r.space()
		if r.next(']') {
			return true
		}
		if !r.next(',') {
			return false
		}
		r.space()
	}
}

// str reads a string value: any byte from 0x20 up (encoding/json does not
// check UTF-8), and the escapes JSON has.
func (r *reader) str() bool {
	r.i++ // '"'
	for r.i < len(r.b) {
		c := r.b[r.i]
		r.i++
		switch {
		case c == '"':
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if r.i >= len(r.b) {
				return false
			}
			e := r.b[r.i]
			r.i++
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if r.i+4 > len(r.b) {
					return false
				}
				for _, h := range r.b[r.i : r.i+4] {
					if !isHex(h) {
						return false
					}
				}
				r.i += 4
			default:
				return false
			}
		}
	}
	return false
}

func (r *reader) literal(word string) bool {
	if len(r.b)-r.i < len(word) || string(r.b[r.i:r.i+len(word)]) != word {
		return false
	}
	r.i += len(word)
	return true
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; what
// follows it is the caller's to check.
func (r *reader) number() bool {
	r.next('-')
	switch {
	case r.next('0'):
	case r.i < len(r.b) && r.b[r.i] >= '1' && r.b[r.i] <= '9':
		r.digits()
	default:
		return false
	}
	if r.next('.') && !r.digits() {
		return false
	}
	if r.next('e') || r.next('E') {
		if !r.next('+') {
			r.next('-')
		}
		if !r.digits() {
			return false
		}
	}
	return true
}

// digits reads one or more digits.
func (r *reader) digits() bool {
	start := r.i
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	return r.i > start
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func asciiEqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
