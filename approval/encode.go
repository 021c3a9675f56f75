package approval

import (
	"encoding/json"
	"strconv"

	"github.com/custoskms/custos/intent"
)

// AppendRequest appends r's JSON to b, byte for byte what json.Marshal(r)
// writes (field order, omitempty's omissions, nil slices as null, HTML
// characters escaped), without reflection: the daemon encodes one request
// per transaction it asks about, and the request MAC is over these bytes.
func AppendRequest(b []byte, r *Request) []byte {
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, int64(r.Version), 10)
	b = append(b, `,"id":`...)
	b = appendString(b, r.ID)
	b = append(b, `,"chain":`...)
	b = appendString(b, r.Chain)
	b = append(b, `,"network":`...)
	b = appendString(b, r.Network)
	b = append(b, `,"signatureIds":`...)
	b = appendStrings(b, r.SignatureIDs)
	b = append(b, `,"indexes":`...)
	if r.Indexes == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, x := range r.Indexes {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(x), 10)
		}
		b = append(b, ']')
	}
	b = append(b, `,"serializedTransaction":`...)
	b = appendString(b, r.SerializedTransaction)
	b = append(b, `,"digest":`...)
	b = appendString(b, r.Digest)
	b = append(b, `,"intent":`...)
	b = appendIntent(b, &r.Intent)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, r.Timestamp, 10)
	if r.QueuedBy != nil {
		b = append(b, `,"queuedBy":{"apiKeyId":`...)
		b = appendString(b, r.QueuedBy.APIKeyID)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendIntent appends in as encoding/json encodes an intent.Intent.
func appendIntent(b []byte, in *intent.Intent) []byte {
	b = append(b, `{"chain":`...)
	b = appendString(b, in.Chain)
	b = append(b, `,"network":`...)
	b = appendString(b, in.Network)
	b = appendOptional(b, `,"chainId":`, in.ChainID)
	b = append(b, `,"signers":`...)
	b = appendStrings(b, in.Signers)
	b = append(b, `,"transfers":`...)
	if in.Transfers == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range in.Transfers {
			if i > 0 {
				b = append(b, ',')
			}
			t := &in.Transfers[i]
			b = append(b, `{"to":`...)
			b = appendString(b, t.To)
			b = append(b, `,"amount":`...)
			b = appendString(b, t.Amount)
			b = appendOptional(b, `,"asset":`, t.Asset)
			if t.Change {
				b = append(b, `,"change":true`...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if f := in.Fee; f != nil {
		b = append(b, `,"fee":{"max":`...)
		b = appendString(b, f.Max)
		b = appendOptional(b, `,"gasPrice":`, f.GasPrice)
		b = appendOptional(b, `,"maxPriorityFeePerGas":`, f.MaxPriorityFeePerGas)
		b = appendOptional(b, `,"gasLimit":`, f.GasLimit)
		b = appendOptional(b, `,"asset":`, f.Asset)
		b = append(b, '}')
	}
	if in.Sequence != nil {
		b = append(b, `,"sequence":`...)
		b = strconv.AppendUint(b, *in.Sequence, 10)
	}
	if len(in.Calls) > 0 {
		b = append(b, `,"calls":[`...)
		for i := range in.Calls {
			if i > 0 {
				b = append(b, ',')
			}
			c := &in.Calls[i]
			b = append(b, `{"contract":`...)
			b = appendString(b, c.Contract)
			b = appendOptional(b, `,"method":`, c.Method)
			b = appendOptional(b, `,"data":`, c.Data)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendOptional(b, `,"memo":`, in.Memo)
	if len(in.Inputs) > 0 {
		b = append(b, `,"inputs":`...)
		b = appendStrings(b, in.Inputs)
	}
	return append(b, '}')
}

// appendOptional appends key and s unless s is empty (omitempty).
func appendOptional(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

// appendStrings appends ss as a JSON array, null when nil.
func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendString appends s quoted as json.Marshal quotes it. Printable ASCII
// (all that ids, digests, amounts and a JSON-serialized transaction hold) is
// written here, '"' and '\\' escaped with a backslash; a string with any
// byte json.Marshal escapes otherwise (control characters, '<', '>', '&',
// non-ASCII, which may be invalid UTF-8 or U+2028) is left to it whole.
func appendString(b []byte, s string) []byte {
	n := len(b)
	b = append(b, '"')
	last := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, s[last:i]...)
			b = append(b, '\\', c)
			last = i + 1
		case c < 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&':
			q, _ := json.Marshal(s) // a string always encodes
			return append(b[:n], q...)
		}
	}
	b = append(b, s[last:]...)
	return append(b, '"')
}
