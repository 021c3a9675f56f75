package nodetest

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/gagliardetto/solana-go"

	"github.com/custoskms/custos/internal/chain/chaintest"
)

// Solana is a Solana JSON-RPC node with the methods the flow uses. Its
// latest blockhash is what the test sets; only blockhashes it handed out and
// the test has not expired are valid. sendTransaction checks the transaction
// with solana-go (parse, every signature) and that its blockhash is valid.
type Solana struct {
	T      testing.TB
	mu     sync.Mutex
	latest solana.Hash
	valid  map[solana.Hash]bool
	sent   []*solana.Transaction
}

// Last is the transaction sent last.
func (f *Solana) Last() *solana.Transaction {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sent) == 0 {
		return nil
	}
	return f.sent[len(f.sent)-1]
}

// Sent are the transactions sent, in order.
func (f *Solana) Sent() []*solana.Transaction {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*solana.Transaction(nil), f.sent...)
}

// SetLatest makes h the latest blockhash and the only valid one.
func (f *Solana) SetLatest(h solana.Hash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latest, f.valid = h, map[solana.Hash]bool{h: true}
}

func (f *Solana) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	answer := func(result any) {
		_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": 1, "result": result})
	}
	refuse := func(msg string) {
		f.T.Errorf("node refused: %s", msg)
		_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": 1, "error": map[string]any{"code": -32002, "message": msg}})
	}
	ctx := map[string]any{"slot": 1000}
	switch req.Method {
	case "getLatestBlockhash":
		answer(map[string]any{"context": ctx, "value": map[string]any{"blockhash": f.latest.String(), "lastValidBlockHeight": 1150}})
	case "isBlockhashValid":
		var s string
		_ = json.Unmarshal(req.Params[0], &s)
		h, err := solana.HashFromBase58(s)
		if err != nil {
			refuse("bad hash")
			return
		}
		answer(map[string]any{"context": ctx, "value": f.valid[h]})
	case "sendTransaction":
		var s string
		_ = json.Unmarshal(req.Params[0], &s)
		tx, err := solana.TransactionFromBase64(s)
		if err != nil {
			refuse("cannot parse: " + err.Error())
			return
		}
		if err := tx.VerifySignatures(); err != nil {
			refuse("signature verification failed: " + err.Error())
			return
		}
		if !f.valid[tx.Message.RecentBlockhash] {
			refuse("Blockhash not found")
			return
		}
		f.sent = append(f.sent, tx)
		answer(tx.Signatures[0].String())
	default:
		refuse("method not found")
	}
}

// SolanaWithoutBlockhash is the first SOL vector's message with an all-zero
// blockhash, and its wallet's key.
func SolanaWithoutBlockhash(t testing.TB) ([]byte, string) {
	t.Helper()
	r := chaintest.SigningRows(t, "SOL")[0]
	var m solana.Message
	if err := m.UnmarshalBase64(r.PendingTransaction.SerializedTransaction); err != nil {
		t.Fatal(err)
	}
	m.RecentBlockhash = solana.Hash{}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b, r.Keys[0].Secret
}
