// Package strictjson refuses JSON that two readers could read differently.
//
// Go's encoding/json matches object keys to struct fields case-insensitively
// and keeps the last of duplicate keys, where other decoders keep the first
// or match exactly. A document such as
// {"serializedTransaction":"A","SerializedTransaction":"B"} is then shown as
// A by one reader and signed as B by another. Check refuses any object with
// two keys that are equal, or equal under Unicode simple case folding (the
// folding Go's decoder applies, Kelvin sign and long s included), so that
// whatever reads an accepted document reads the same fields.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// ErrDuplicateKey is wrapped by Check's error for an object with two keys
// equal under case folding.
var ErrDuplicateKey = errors.New("JSON object has a duplicate or case-variant key")

// DuplicateKeyError names the key found twice. Depth is the number of
// objects and arrays around the object holding it (0: the top-level object).
type DuplicateKeyError struct {
	Key, Other string
	Depth      int
}

func (e *DuplicateKeyError) Error() string {
	if e.Key == e.Other {
		return fmt.Sprintf("%s: %q appears twice", ErrDuplicateKey, e.Key)
	}
	return fmt.Sprintf("%s: %q and %q", ErrDuplicateKey, e.Other, e.Key)
}

// Unwrap makes errors.Is match ErrDuplicateKey.
func (e *DuplicateKeyError) Unwrap() error { return ErrDuplicateKey }

// Check reports an error when b is not exactly one JSON value (whitespace
// around it aside) or when any object in it has a duplicate or case-variant
// key (a *DuplicateKeyError). Keys are compared after unescaping, as a
// decoder sees them.
//
// The common document (plain ASCII keys, pairwise distinct, nesting within
// plainDepth) is accepted by the quick reader Object uses, with no token
// and no allocation; anything else is read token by token (tokenCheck),
// which also words every error.
func Check(b []byte) error {
	if plainValue(b) {
		return nil
	}
	return tokenCheck(b)
}

// tokenCheck is Check by encoding/json's token reader.
func tokenCheck(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers are skipped, not converted
	// One frame per open object or array: an object's frame holds its
	// folded keys; an array's is nil.
	var stack []map[string]string
	inObject := func() bool { return len(stack) > 0 && stack[len(stack)-1] != nil }
	expectKey := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
		switch {
		case expectKey:
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				break
			}
			key := tok.(string) // the decoder allows only a string here
			f := fold(key)
			seen := stack[len(stack)-1]
			if other, dup := seen[f]; dup {
				return &DuplicateKeyError{Key: key, Other: other, Depth: len(stack) - 1}
			}
			seen[f] = key
			expectKey = false
			continue // its value comes next
		case tok == json.Delim('{'):
			stack = append(stack, map[string]string{})
			expectKey = true
			continue
		case tok == json.Delim('['):
			stack = append(stack, nil)
		case tok == json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			break // the top-level value is complete
		}
		// After a value inside an object, a key (or '}') comes next.
		expectKey = inObject()
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("JSON: data after the top-level value")
	}
	return nil
}

// fold maps s to one representative of its case-folding class: each rune
// becomes the smallest rune of its simple-folding orbit, so "K", "k" and
// the Kelvin sign fold alike, as strings.EqualFold and Go's decoder see them.
func fold(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		sb.WriteRune(m)
	}
	return sb.String()
}

// Decode refuses what Check refuses, then decodes b into v. Its error reads
// as a message about a request's field ("amount: must not be a JSON number",
// "body: malformed JSON at byte 12"), for an API to answer as it is.
func Decode(b []byte, v any) error {
	if err := Check(b); err != nil {
		var dup *DuplicateKeyError
		if errors.As(err, &dup) {
			return errors.New("body: " + dup.Error())
		}
		return errors.New(Describe(err))
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.New(Describe(err))
	}
	return nil
}

// Describe words an encoding/json error as a message about a request's field.
func Describe(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return "body: must be a JSON object"
		}
		return fmt.Sprintf("%s: must not be a JSON %s", field, te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("body: malformed JSON at byte %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "body: truncated JSON"
	}
	return "body: malformed JSON"
}
