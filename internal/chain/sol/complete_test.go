package sol_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	solana "github.com/gagliardetto/solana-go"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/chain/sol"
)

// fakeNode is a Solana JSON-RPC node with the methods the flow uses. Its
// latest blockhash is what the test sets; only blockhashes it handed out and
// the test has not expired are valid. sendTransaction checks the transaction
// with solana-go (parse, every signature) and that its blockhash is valid.
type fakeNode struct {
	t      *testing.T
	mu     sync.Mutex
	latest solana.Hash
	valid  map[solana.Hash]bool
	sent   []*solana.Transaction
}

func (f *fakeNode) setLatest(h solana.Hash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latest, f.valid = h, map[solana.Hash]bool{h: true}
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
		f.t.Errorf("node refused: %s", msg)
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

// withoutBlockhash is the first SOL vector's message with an all-zero
// blockhash, and its wallet's key.
func withoutBlockhash(t *testing.T) ([]byte, string) {
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

// In both forms, a message queued with an all-zero blockhash passes
// validation, is refused by the signer naming recentBlockhash, is completed
// from a local node, signed, and accepted by that node, which checks every
// signature and the blockhash; once the node no longer knows the blockhash
// it is reported expired, and Refresh makes it sendable again.
func TestCompleteSignBroadcastExpire(t *testing.T) {
	ctx := context.Background()
	f := &fakeNode{t: t}
	first := solana.Hash{1, 2, 3}
	f.setLatest(first)
	srv := httptest.NewServer(f)
	defer srv.Close()
	node, err := broadcast.DialSolana(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	msg, key := withoutBlockhash(t)
	for name, ser := range map[string]string{
		"native": base64.StdEncoding.EncodeToString(msg),
		"tatum":  `{"txData":"` + hex.EncodeToString(msg) + `"}`,
	} {
		f.setLatest(first)
		if err := sol.SOL.ValidateTx(ser, false); err != nil {
			t.Fatalf("%s: validation refuses it: %v", name, err)
		}
		if missing, err := sol.SOL.MissingFields(ser); err != nil || strings.Join(missing, ",") != "recentBlockhash" {
			t.Fatalf("%s: MissingFields = %v, %v", name, missing, err)
		}
		if _, err := sol.SOL.Sign(ctx, chain.SignRequest{Serialized: ser, Keys: []string{key}}); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "recentBlockhash") {
			t.Fatalf("%s: signing it: %v", name, err)
		}
		if expired, err := sol.SOL.Expired(ctx, node, ser); err != nil || expired {
			t.Errorf("%s: incomplete is expired: %v, %v", name, expired, err)
		}
		done, err := sol.SOL.CompleteFromNode(ctx, node, ser, false)
		if err != nil {
			t.Fatal(err)
		}
		if chain.LooksLikeJSONObject(done) != chain.LooksLikeJSONObject(ser) {
			t.Errorf("%s: completion changed the form: %s", name, done)
		}
		if missing, err := sol.SOL.MissingFields(done); err != nil || missing != nil {
			t.Fatalf("%s: after completion MissingFields = %v, %v", name, missing, err)
		}
		if again, err := sol.SOL.CompleteFromNode(ctx, node, done, false); err != nil || again != done {
			t.Errorf("%s: completing a complete transaction changed it: %v", name, err)
		}
		chaintest.SignAndBroadcast(t, sol.SOL, node, chain.SignRequest{Serialized: done, Keys: []string{key}})
		if got := f.sent[len(f.sent)-1].Message.RecentBlockhash; got != first {
			t.Errorf("%s: sent blockhash %s, want %s", name, got, first)
		}

		if expired, err := sol.SOL.Expired(ctx, node, done); err != nil || expired {
			t.Errorf("%s: fresh: expired %v, %v", name, expired, err)
		}
		second := solana.Hash{4, 5, 6}
		f.setLatest(second) // the first blockhash is now past its window
		if expired, err := sol.SOL.Expired(ctx, node, done); err != nil || !expired {
			t.Errorf("%s: after the window: expired %v, %v", name, expired, err)
		}
		fresh, err := sol.SOL.Refresh(ctx, node, done)
		if err != nil {
			t.Fatal(err)
		}
		chaintest.SignAndBroadcast(t, sol.SOL, node, chain.SignRequest{Serialized: fresh, Keys: []string{key}})
		if got := f.sent[len(f.sent)-1].Message.RecentBlockhash; got != second {
			t.Errorf("%s: refreshed blockhash %s, want %s", name, got, second)
		}
	}
	if _, err := sol.SOL.CompleteFromNode(ctx, struct{}{}, base64.StdEncoding.EncodeToString(msg), false); err == nil || !strings.Contains(err.Error(), "getLatestBlockhash") {
		t.Errorf("a client without the read methods: %v", err)
	}
}
