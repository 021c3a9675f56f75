package approval

import (
	"encoding/json"
	"strconv"
)

// appendBatchResponse appends the JSON of a BatchResponse holding items,
// byte for byte what json.Marshal writes for it (fields in their declared
// order, the reason omitted when empty), without its reflection: the
// approver writes one per batch.
func appendBatchResponse(dst []byte, items []BatchItem) []byte {
	dst = append(dst, `{"responses":[`...)
	for i := range items {
		it := &items[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = appendString(dst, it.ID)
		dst = append(dst, `,"digest":`...)
		dst = appendString(dst, it.Digest)
		dst = append(dst, `,"decision":`...)
		dst = appendString(dst, string(it.Decision))
		if it.Reason != "" {
			dst = append(dst, `,"reason":`...)
			dst = appendString(dst, it.Reason)
		}
		dst = append(dst, `,"timestamp":`...)
		dst = strconv.AppendInt(dst, it.Timestamp, 10)
		dst = append(dst, `,"signature":`...)
		dst = appendString(dst, it.Signature)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// appendString appends s as a JSON string as json.Marshal writes it. Ids,
// digests, decisions and signatures are printable ASCII that it writes
// unchanged; anything else (an escape, HTML-escaped <, > and &, non-ASCII
// text, which it checks for UTF-8 and U+2028/U+2029) is left to it.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always encodes
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
