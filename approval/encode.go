package approval

import (
	"strconv"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/jsonenc"
)

// AppendRequest appends r's JSON to b, byte for byte what json.Marshal(r)
// writes (field order, omitempty's omissions, nil slices as null, HTML
// characters escaped), without reflection: the daemon encodes one request
// per transaction it asks about, and the request MAC is over these bytes.
func AppendRequest(b []byte, r *Request) []byte {
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, int64(r.Version), 10)
	b = append(b, `,"id":`...)
	b = jsonenc.String(b, r.ID)
	b = append(b, `,"chain":`...)
	b = jsonenc.String(b, r.Chain)
	b = append(b, `,"network":`...)
	b = jsonenc.String(b, r.Network)
	b = append(b, `,"signatureIds":`...)
	b = jsonenc.Strings(b, r.SignatureIDs)
	b = append(b, `,"indexes":`...)
	b = jsonenc.Uint32s(b, r.Indexes)
	b = append(b, `,"serializedTransaction":`...)
	b = jsonenc.String(b, r.SerializedTransaction)
	b = append(b, `,"digest":`...)
	b = jsonenc.String(b, r.Digest)
	b = append(b, `,"intent":`...)
	b = appendIntent(b, &r.Intent)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, r.Timestamp, 10)
	if r.QueuedBy != nil {
		b = append(b, `,"queuedBy":{"apiKeyId":`...)
		b = jsonenc.String(b, r.QueuedBy.APIKeyID)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendIntent appends in as encoding/json encodes an intent.Intent.
func appendIntent(b []byte, in *intent.Intent) []byte {
	b = append(b, `{"chain":`...)
	b = jsonenc.String(b, in.Chain)
	b = append(b, `,"network":`...)
	b = jsonenc.String(b, in.Network)
	b = appendOptional(b, `,"chainId":`, in.ChainID)
	b = append(b, `,"signers":`...)
	b = jsonenc.Strings(b, in.Signers)
	b = append(b, `,"transfers":`...)
	b = jsonenc.Array(b, in.Transfers, appendTransfer)
	if f := in.Fee; f != nil {
		b = append(b, `,"fee":{"max":`...)
		b = jsonenc.String(b, f.Max)
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
		b = append(b, `,"calls":`...)
		b = jsonenc.Array(b, in.Calls, appendCall)
	}
	b = appendOptional(b, `,"memo":`, in.Memo)
	if len(in.Inputs) > 0 {
		b = append(b, `,"inputs":`...)
		b = jsonenc.Strings(b, in.Inputs)
	}
	return append(b, '}')
}

// appendTransfer appends t as encoding/json encodes an intent.Transfer.
func appendTransfer(b []byte, t intent.Transfer) []byte {
	b = append(b, `{"to":`...)
	b = jsonenc.String(b, t.To)
	b = append(b, `,"amount":`...)
	b = jsonenc.String(b, t.Amount)
	b = appendOptional(b, `,"asset":`, t.Asset)
	if t.Change {
		b = append(b, `,"change":true`...)
	}
	return append(b, '}')
}

// appendCall appends c as encoding/json encodes an intent.Call.
func appendCall(b []byte, c intent.Call) []byte {
	b = append(b, `{"contract":`...)
	b = jsonenc.String(b, c.Contract)
	b = appendOptional(b, `,"method":`, c.Method)
	b = appendOptional(b, `,"data":`, c.Data)
	return append(b, '}')
}

// appendOptional appends key and s unless s is empty (omitempty).
func appendOptional(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return jsonenc.String(append(b, key...), s)
}
