package nodetest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Bitcoind implements the JSON-RPC method the server sends UTXO transactions
// with, sendrawtransaction, as the bitcoind family serves it (dogecoind for
// DOGE, which has no local node): a transaction is taken only when every
// input spends an unspent output of UTXOs and its script (the signature) runs
// true against it under btcd's script engine; a taken transaction's inputs
// are spent. Errors are answered as bitcoind does: HTTP 500, a JSON-RPC error.
type Bitcoind struct {
	T     testing.TB
	mu    sync.Mutex
	UTXOs map[wire.OutPoint]*wire.TxOut
	sent  []string
	ids   []string
}

// Accepted is what sendrawtransaction took, in order (hex), and the txids it
// answered.
func (f *Bitcoind) Accepted() ([]string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...), append([]string(nil), f.ids...)
}

func (f *Bitcoind) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var req struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params []string        `json:"params"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&req) != nil || req.Method != "sendrawtransaction" || len(req.Params) != 1 {
		f.T.Errorf("request %s %s %s", r.Method, r.URL.Path, req.Method)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if req.ID == nil {
		req.ID = json.RawMessage("null")
	}
	txid, code, msg := f.accept(req.Params[0])
	if msg != "" {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"result":null,"error":{"code":%d,"message":%q},"id":%s}`, code, msg, req.ID)
		return
	}
	fmt.Fprintf(w, `{"result":%q,"error":null,"id":%s}`, txid, req.ID)
}

// accept checks and takes one transaction, or says why not with bitcoind's
// code and message.
func (f *Bitcoind) accept(rawHex string) (string, int, string) {
	raw, err := hex.DecodeString(rawHex)
	tx := new(wire.MsgTx)
	if err != nil || tx.Deserialize(bytes.NewReader(raw)) != nil {
		return "", -22, "TX decode failed"
	}
	prev := txscript.NewMultiPrevOutFetcher(nil)
	for _, in := range tx.TxIn {
		out, ok := f.UTXOs[in.PreviousOutPoint]
		if !ok {
			return "", -25, "bad-txns-inputs-missingorspent"
		}
		prev.AddPrevOut(in.PreviousOutPoint, out)
	}
	hashes := txscript.NewTxSigHashes(tx, prev)
	for i, in := range tx.TxIn {
		out := f.UTXOs[in.PreviousOutPoint]
		vm, err := txscript.NewEngine(out.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, out.Value, prev)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			return "", -26, fmt.Sprintf("mandatory-script-verify-flag-failed (input %d: %v)", i, err)
		}
	}
	for _, in := range tx.TxIn {
		delete(f.UTXOs, in.PreviousOutPoint)
	}
	id := tx.TxHash().String()
	f.sent, f.ids = append(f.sent, rawHex), append(f.ids, id)
	return id, 0, ""
}
