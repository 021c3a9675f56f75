package chain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Set puts v, encoded as JSON, in the member key: how a completer or a
// sequencer fills a field of a JSON transaction and leaves every other member
// as it was given.
func (o JSONObject) Set(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	o[key] = b
	return nil
}

// Encode writes the object back as one line of JSON. Members keep their raw
// values; <, > and & stay as they are, so text the sender wrote (a memo, a
// data field) reads back byte for byte.
func (o JSONObject) Encode() (string, error) {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]json.RawMessage(o)); err != nil {
		return "", fmt.Errorf("encode transaction: %w", err)
	}
	return strings.TrimSuffix(out.String(), "\n"), nil
}

// SetJSON returns the JSON transaction serialized with the member key set to
// v: a JSON chain's WithSequence.
func SetJSON(serialized, key string, v any) (string, error) {
	o, err := ParseJSONObject(serialized)
	if err != nil {
		return "", err
	}
	if err := o.Set(key, v); err != nil {
		return "", err
	}
	return o.Encode()
}
