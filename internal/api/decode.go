package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// readBody reads the request body up to the server's cap.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readBodyMax(w, r, s.maxBody)
}

// readBodyMax reads the request body up to max bytes.
func readBodyMax(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= max {
		buf.Grow(int(n))
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &Error{ErrorCode: CodeBodyTooLarge, StatusCode: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("Request body is larger than %d bytes.", max)}
	}
	if err != nil {
		return nil, invalid("body: could not be read")
	}
	if len(bytes.TrimSpace(buf.Bytes())) == 0 {
		return nil, invalid("body: must not be empty")
	}
	return buf.Bytes(), nil
}

// decodeJSON decodes one JSON object from body into v, describing what is
// wrong in terms of the request's fields.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return invalid(describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("body: unexpected data after the JSON object")
	}
	return nil
}

func describeJSONError(err error) string {
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

// decodeSignatureIDs reads {"signatureIds":[…]} from a pending POST body.
// Signers send up to a million IDs, so the common shape — that one key and an
// array of plain strings — is scanned directly; anything else (other keys,
// escapes, odd types) goes through encoding/json, which gives the same result
// more slowly and describes errors.
func decodeSignatureIDs(body []byte) ([]string, error) {
	if ids, ok := scanSignatureIDs(body); ok {
		return ids, nil
	}
	var req struct {
		SignatureIDs *[]string `json:"signatureIds"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return nil, err
	}
	if req.SignatureIDs == nil {
		return nil, invalid("signatureIds: is required")
	}
	ids := *req.SignatureIDs
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// scanSignatureIDs is the fast path of decodeSignatureIDs. It reports false
// for anything but {"signatureIds":["…",…]} with plain strings and JSON
// whitespace. The strings share one copy of the body.
func scanSignatureIDs(body []byte) ([]string, bool) {
	src := string(body)
	i := 0
	ws := func() {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
			i++
		}
	}
	lit := func(s string) bool {
		ws()
		if strings.HasPrefix(src[i:], s) {
			i += len(s)
			return true
		}
		return false
	}
	if !lit("{") || !lit(`"signatureIds"`) || !lit(":") || !lit("[") {
		return nil, false
	}
	ids := make([]string, 0, len(src)/39+1)
	ws()
	if i < len(src) && src[i] == ']' {
		i++
	} else {
		for {
			ws()
			if i >= len(src) || src[i] != '"' {
				return nil, false
			}
			start := i + 1
			end := strings.IndexByte(src[start:], '"')
			if end < 0 {
				return nil, false
			}
			s := src[start : start+end]
			for j := 0; j < len(s); j++ {
				if c := s[j]; c == '\\' || c < 0x20 || c >= 0x80 {
					return nil, false // escapes, control or non-ASCII: let encoding/json decide
				}
			}
			ids = append(ids, s)
			i = start + end + 1
			ws()
			if i < len(src) && src[i] == ',' {
				i++
				continue
			}
			if i < len(src) && src[i] == ']' {
				i++
				break
			}
			return nil, false
		}
	}
	if !lit("}") {
		return nil, false
	}
	ws()
	return ids, i == len(src)
}
