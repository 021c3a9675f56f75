package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unsafe"

	"github.com/custoskms/custos/internal/strictjson"
)

// readBody reads the request body, which wrap capped at the route's limit,
// and refuses an empty one.
func (s *Server) readBody(_ http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := s.readMaybeEmpty(r)
	if err == nil && len(bytes.TrimSpace(b)) == 0 {
		return nil, invalid("body: must not be empty")
	}
	return b, err
}

// readMaybeEmpty is readBody for a route that takes an empty body too.
func (s *Server) readMaybeEmpty(r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	// wrap refused a Content-Length over the route's cap.
	// Room for one more read past the body: ReadFrom reads until EOF and
	// grows a full buffer before that last read, which for a buffer of
	// exactly the body's size meant allocating and copying it all again
	// (10 MB for a pending POST of 250,000 IDs).
	if n := r.ContentLength; n > 0 && n <= s.maxBody {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, tooLarge(tooBig.Limit)
	}
	if err != nil {
		return nil, invalid("body: could not be read")
	}
	return buf.Bytes(), nil
}

// decodeJSON decodes one JSON object from body into v, describing what is
// wrong in terms of the request's fields.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return invalid(strictjson.Describe(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("body: unexpected data after the JSON object")
	}
	return nil
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
// whitespace. The strings share the body's memory instead of a copy of it
// (10 MB at 250,000 IDs): a request's body is read into a buffer of its own
// (readMaybeEmpty) that nothing writes to after, so it may back strings.
func scanSignatureIDs(body []byte) ([]string, bool) {
	if len(body) == 0 {
		return nil, false
	}
	src := unsafe.String(&body[0], len(body))
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
