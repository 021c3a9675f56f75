package approval

import (
	"strconv"

	"github.com/custoskms/custos/internal/jsonenc"
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
		dst = jsonenc.String(dst, it.ID)
		dst = append(dst, `,"digest":`...)
		dst = jsonenc.String(dst, it.Digest)
		dst = append(dst, `,"decision":`...)
		dst = jsonenc.String(dst, string(it.Decision))
		if it.Reason != "" {
			dst = append(dst, `,"reason":`...)
			dst = jsonenc.String(dst, it.Reason)
		}
		dst = append(dst, `,"timestamp":`...)
		dst = strconv.AppendInt(dst, it.Timestamp, 10)
		dst = append(dst, `,"signature":`...)
		dst = jsonenc.String(dst, it.Signature)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}
