// Package jsonenc appends JSON values byte for byte as json.Marshal writes
// them, without reflection, for the encoders written by hand where a
// per-transaction json.Marshal shows in profiles (the approval request, the
// audit log's entries). Anything it does not write itself it leaves to
// json.Marshal, so that its output never differs.
package jsonenc

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// String appends s quoted as json.Marshal quotes it. Printable ASCII (all
// that ids, digests, amounts and a JSON-serialized transaction hold) is
// written here, '"' and '\\' escaped with a backslash; a string with any
// byte json.Marshal escapes otherwise (control characters, '<', '>', '&',
// non-ASCII, which may be invalid UTF-8 or U+2028) is left to it whole.
func String(b []byte, s string) []byte { return appendString(b, s, true) }

// StringNoHTML appends s quoted as a json.Encoder with SetEscapeHTML(false)
// quotes it: as String, but '<', '>' and '&' written as they are (the
// pending-transaction API's answers, which Tatum's clients read as the API
// has always written them).
func StringNoHTML(b []byte, s string) []byte { return appendString(b, s, false) }

func appendString(b []byte, s string, html bool) []byte {
	n := len(b)
	b = append(b, '"')
	last := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, s[last:i]...)
			b = append(b, '\\', c)
			last = i + 1
		case c < 0x20 || c > 0x7e || html && (c == '<' || c == '>' || c == '&'):
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(html)
			_ = enc.Encode(s) // a string always encodes
			return append(b[:n], bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...)
		}
	}
	b = append(b, s[last:]...)
	return append(b, '"')
}

// Array appends xs as a JSON array of the values elem appends, null when
// xs is nil, as json.Marshal writes a slice.
func Array[T any](b []byte, xs []T, elem func([]byte, T) []byte) []byte {
	if xs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, x)
	}
	return append(b, ']')
}

// Strings appends ss as a JSON array, null when nil.
func Strings(b []byte, ss []string) []byte { return Array(b, ss, String) }

// Uint32s appends xs as a JSON array, null when nil.
func Uint32s(b []byte, xs []uint32) []byte { return Array(b, xs, Uint32) }

// Uint32 appends x as json.Marshal writes it.
func Uint32(b []byte, x uint32) []byte { return strconv.AppendUint(b, uint64(x), 10) }

// Value appends v as json.Marshal writes it: strings, booleans, integers
// and slices of strings and of uint32 here, anything else by json.Marshal
// (whose error it returns).
func Value(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return String(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case []string:
		return Strings(b, v), nil
	case []uint32:
		return Uint32s(b, v), nil
	}
	q, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, q...), nil
}
