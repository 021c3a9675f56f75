package api

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/custoskms/custos/internal/jsonenc"
	"github.com/custoskms/custos/internal/pending"
)

// pendingChunk is about how much of a pending answer is written at once: a
// signer's answer can hold tens of thousands of transactions, which the
// server then never holds whole, nor encodes by reflection.
const pendingChunk = 64 << 10

// writePendingTxs writes txs as writeJSON does, byte for byte, appending
// each transaction's fields by hand and writing the answer in chunks. An
// answer that writeJSON would refuse (stored withdrawal responses that are
// not JSON) goes to writeJSON, which it decides.
func writePendingTxs(w http.ResponseWriter, txs []pending.Tx) {
	if txs == nil || !validResponses(txs) {
		writeJSON(w, http.StatusOK, txs)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	b := make([]byte, 0, min(pendingChunk+pendingChunk/4, 256*(len(txs)+1)))
	b = append(b, '[')
	for i := range txs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPendingTx(b, &txs[i])
		if len(b) >= pendingChunk {
			if _, err := w.Write(b); err != nil {
				return // the client went away
			}
			b = b[:0]
		}
	}
	b = append(b, "]\n"...)
	_, _ = w.Write(b)
}

// validResponses reports whether every transaction's withdrawal responses
// are valid JSON (encoding/json checks a json.RawMessage before it writes).
func validResponses(txs []pending.Tx) bool {
	for i := range txs {
		if r := txs[i].WithdrawalResponses; len(r) > 0 && !json.Valid(r) {
			return false
		}
	}
	return true
}

// appendSignature appends sg as encoding/json encodes a pending.Signature.
func appendSignature(b []byte, sg pending.Signature) []byte {
	b = append(b, `{"id":`...)
	b = jsonenc.StringNoHTML(b, sg.ID)
	if sg.Index != nil {
		b = append(b, `,"index":`...)
		b = jsonenc.Uint32(b, *sg.Index)
	}
	return append(b, '}')
}

// appendPendingTx appends t as encoding/json encodes a pending.Tx, with
// the fields in their order and omitempty's omissions.
func appendPendingTx(b []byte, t *pending.Tx) []byte {
	b = append(b, `{"id":`...)
	b = jsonenc.StringNoHTML(b, t.ID)
	b = append(b, `,"chain":`...)
	b = jsonenc.StringNoHTML(b, t.Chain)
	b = append(b, `,"serializedTransaction":`...)
	b = jsonenc.StringNoHTML(b, t.SerializedTransaction)
	b = append(b, `,"hashes":`...)
	b = jsonenc.Array(b, t.Hashes, jsonenc.StringNoHTML)
	if t.Index != nil {
		b = append(b, `,"index":`...)
		b = jsonenc.Uint32(b, *t.Index)
	}
	if len(t.Signatures) > 0 {
		b = append(b, `,"signatures":`...)
		b = jsonenc.Array(b, t.Signatures, appendSignature)
	}
	if t.WithdrawalID != "" {
		b = append(b, `,"withdrawalId":`...)
		b = jsonenc.StringNoHTML(b, t.WithdrawalID)
	}
	if t.TxID != "" {
		b = append(b, `,"txId":`...)
		b = jsonenc.StringNoHTML(b, t.TxID)
	}
	if len(t.WithdrawalResponses) > 0 {
		b = append(b, `,"withdrawalResponses":`...)
		// Valid (validResponses): encoding/json writes it compacted.
		buf := bytes.NewBuffer(b)
		_ = json.Compact(buf, t.WithdrawalResponses)
		b = buf.Bytes()
	}
	return append(b, '}')
}
