package broadcast

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/broadcast/nodetest"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/chain/egld"
	"github.com/custoskms/custos/internal/vectors"
)

// Each Tatum-form EGLD vector ({from, to, value, data}) is completed and
// sequenced from a gateway answering what the vector's node answered,
// signed with the chain's Sign, and the result is Tatum's signed
// transaction byte for byte; the gateway accepts it (signature, nonce, chain
// id) and a second one in a row takes the next nonce.
func TestMultiversXCompleteSignSubmit(t *testing.T) {
	ctx := context.Background()
	n := 0
	for _, r := range vectors.SigningFor("EGLD") {
		if r.Format != "tatum" {
			continue
		}
		n++
		var want chaintest.Expected
		if err := json.Unmarshal(r.Expected, &want); err != nil {
			t.Fatal(err)
		}
		var signedWant struct {
			Nonce uint64 `json:"nonce"`
		}
		_ = json.Unmarshal([]byte(want.Signed), &signedWant)
		chainID := "1"
		if r.Testnet {
			chainID = "T"
		}
		f := &nodetest.Gateway{T: t, ChainID: chainID, Nonce: map[string]uint64{want.From: signedWant.Nonce}}
		srv := httptest.NewServer(f)
		t.Cleanup(srv.Close)
		cl, err := DialMultiversX(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		key := chaintest.VectorKey(r)
		incomplete := r.PendingTransaction.SerializedTransaction
		if err := egld.EGLD.ValidateTx(incomplete, r.Testnet); err != nil {
			t.Fatalf("ValidateTx: %v", err)
		}
		if _, err := egld.EGLD.Sign(ctx, chain.SignRequest{Serialized: incomplete, Testnet: r.Testnet, Keys: []string{key}}); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "nonce") {
			t.Fatalf("Sign of an incomplete transaction: %v", err)
		}
		if m, err := egld.EGLD.MissingFields(incomplete); err != nil || strings.Join(m, ",") != "gasPrice,gasLimit,chainID,version" {
			t.Fatalf("MissingFields = %v, %v", m, err)
		}
		for i := range 2 {
			done, err := egld.EGLD.CompleteFromNode(ctx, cl, incomplete, r.Testnet)
			if err != nil {
				t.Fatal(err)
			}
			sender, seq, err := egld.EGLD.Sequence(done, r.Testnet)
			if err != nil || sender != want.From || seq != nil {
				t.Fatalf("Sequence = %s, %v, %v", sender, seq, err)
			}
			next, err := egld.EGLD.NextSequence(ctx, cl, sender)
			if err != nil || next != signedWant.Nonce+uint64(i) {
				t.Fatalf("NextSequence = %d, %v", next, err)
			}
			if done, err = egld.EGLD.WithSequence(done, next); err != nil {
				t.Fatal(err)
			}
			signed, err := egld.EGLD.Sign(ctx, chain.SignRequest{Serialized: done, Testnet: r.Testnet, Keys: []string{key}})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 && (signed.TxData != want.Signed || signed.TxID != want.TxID) {
				t.Errorf("%s:\n got %s %s\nwant %s %s", r.PendingTransaction.ID, signed.TxData, signed.TxID, want.Signed, want.TxID)
			}
			if id, err := cl.Broadcast(ctx, signed.TxData); err != nil || id != signed.TxID {
				t.Fatalf("send %d: %s, %v", i, id, err)
			}
		}
		if sent, _ := f.Accepted(); len(sent) != 2 {
			t.Errorf("%d sent", len(sent))
		}
		// A node on the other network is refused before anything is filled.
		f.SetChainID(map[bool]string{true: "1", false: "T"}[r.Testnet])
		if _, err := egld.EGLD.CompleteFromNode(ctx, cl, incomplete, r.Testnet); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("node on the other network: %v", err)
		}
	}
	if n == 0 {
		t.Fatal("no Tatum-form EGLD vectors")
	}
}
