package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// checkStrict walks the JSON document against the shape of t and refuses what
// encoding/json would quietly accept: a key given twice (the last one would
// win), a key whose case differs from the field's (the decoder matches names
// case-insensitively, the JSON Schema does not), an unknown key, a null
// (which the decoder skips) and trailing data. A policy read two ways would be a policy that means two things.
func checkStrict(data []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walk(dec, t, "$"); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("$: data after the policy document")
	}
	return nil
}

func walk(dec *json.Decoder, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if tok == nil {
		// The decoder would skip it; the schema refuses it.
		return fmt.Errorf("%s: null is not allowed (leave the field out)", path)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar: its type is the decoder's business
	}
	switch d {
	case '[':
		elem := reflect.TypeFor[any]()
		if t.Kind() == reflect.Slice {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := walk(dec, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case '{':
		fields := map[string]reflect.Type{}
		if t.Kind() == reflect.Struct {
			for i := range t.NumField() {
				f := t.Field(i)
				if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
					fields[name] = f.Type
				}
			}
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			key := tok.(string)
			at := path + "." + key
			if seen[key] {
				return fmt.Errorf("%s: key given twice", at)
			}
			seen[key] = true
			elem := reflect.TypeFor[any]()
			switch t.Kind() {
			case reflect.Struct:
				ft, ok := fields[key]
				if !ok {
					return fmt.Errorf("%s: unknown field", at)
				}
				elem = ft
			case reflect.Map:
				elem = t.Elem()
			}
			if err := walk(dec, elem, at); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}
