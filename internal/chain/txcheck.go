package chain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// InvalidTx is an ErrInvalidTx error with a reason. Reasons name fields and
// formats, never quote the input.
func InvalidTx(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidTx, fmt.Sprintf(format, args...))
}

// WrongNetwork is an ErrWrongNetwork error with a reason.
func WrongNetwork(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrWrongNetwork, fmt.Sprintf(format, args...))
}

// JSONObject is a decoded JSON object whose members stay raw, so a validator
// checks only the fields it knows and their JSON types.
type JSONObject map[string]json.RawMessage

// LooksLikeJSONObject tells a JSON form from a binary (hex/base64) one.
func LooksLikeJSONObject(s string) bool {
	return strings.HasPrefix(strings.TrimSpace(s), "{")
}

// ParseJSONObject decodes s as one JSON object (no trailing data).
func ParseJSONObject(s string) (JSONObject, error) {
	return parseObject([]byte(s), "transaction")
}

func parseObject(b []byte, what string) (JSONObject, error) {
	var o JSONObject
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&o); err != nil || o == nil {
		return nil, InvalidTx("%s is not a JSON object", what)
	}
	if dec.More() {
		return nil, InvalidTx("%s has trailing data after the JSON object", what)
	}
	return o, nil
}

// Has reports whether the member is present and not null.
func (o JSONObject) Has(key string) bool {
	v, ok := o[key]
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// Missing lists, in the order given, the keys that are absent or null.
func (o JSONObject) Missing(keys ...string) []string {
	var missing []string
	for _, k := range keys {
		if !o.Has(k) {
			missing = append(missing, k)
		}
	}
	return missing
}

// Object returns a member that must be a JSON object.
func (o JSONObject) Object(key string) (JSONObject, error) {
	v, ok := o[key]
	if !ok {
		return nil, InvalidTx("missing %q", key)
	}
	return parseObject(v, fmt.Sprintf("%q", key))
}

// Array returns a member that must be a non-empty JSON array.
func (o JSONObject) Array(key string) ([]json.RawMessage, error) {
	var a []json.RawMessage
	if v, ok := o[key]; !ok {
		return nil, InvalidTx("missing %q", key)
	} else if err := json.Unmarshal(v, &a); err != nil || a == nil {
		return nil, InvalidTx("%q is not a JSON array", key)
	}
	if len(a) == 0 {
		return nil, InvalidTx("%q is empty", key)
	}
	return a, nil
}

// String returns a member that must be a non-empty JSON string.
func (o JSONObject) String(key string) (string, error) {
	var s string
	if v, ok := o[key]; !ok {
		return "", InvalidTx("missing %q", key)
	} else if err := json.Unmarshal(v, &s); err != nil {
		return "", InvalidTx("%q is not a string", key)
	}
	if s == "" {
		return "", InvalidTx("%q is empty", key)
	}
	return s, nil
}

// Uint returns a member that must be a non-negative JSON integer (a number,
// or a decimal string where quoteOK: JSON libraries of several chains quote
// 64-bit values).
func (o JSONObject) Uint(key string, quoteOK bool) (uint64, error) {
	v, ok := o[key]
	if !ok {
		return 0, InvalidTx("missing %q", key)
	}
	var n uint64
	if err := json.Unmarshal(v, &n); err == nil {
		return n, nil
	}
	var s string
	if quoteOK && json.Unmarshal(v, &s) == nil && IsDecimal(s) {
		if _, err := fmt.Sscan(s, &n); err == nil {
			return n, nil
		}
	}
	return 0, InvalidTx("%q is not a non-negative integer", key)
}

// IsDecimal reports whether s is a non-empty run of ASCII digits.
func IsDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsHex reports whether s is non-empty, of even length and hex digits only.
func IsHex(s string) bool {
	if s == "" || len(s)%2 != 0 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}
