package api

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/devchain"
	"github.com/custoskms/custos/internal/pending"
)

// Transfers queued at once without nonces get the sender's nonces one each;
// a deleted last one gives its nonce back, a deleted middle one is replaced
// by a zero-value self-transfer; everything queued is then signed, broadcast
// and mined, and the sender's nonce ends where the queue did.
func TestCreateAllocatesNonces(t *testing.T) {
	e, dc, node := fillEnv(t)
	ctx := t.Context()
	const n = 6
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.queue(e.keyTest, `{"to":"`+fillRecipient+`","value":"1","from":"`+fillFrom+`"}`).want(t, 200, nil)
		}()
	}
	wg.Wait()
	byNonce := pendingByNonce(t, e)
	if len(byNonce) != n {
		t.Fatalf("%d distinct nonces for %d transfers: %v", len(byNonce), n, byNonce)
	}
	for i := range uint64(n) {
		tx, ok := byNonce[i]
		if !ok {
			t.Fatalf("nonce %d not allocated: %v", i, byNonce)
		}
		if !strings.Contains(tx.SerializedTransaction, fmt.Sprintf(`"nonce":"%#x"`, i)) {
			t.Fatalf("nonce %d not stored as a hex string: %s", i, tx.SerializedTransaction)
		}
	}
	e.do("DELETE", "/v3/kms/"+byNonce[n-1].ID, e.keyTest, nil).want(t, 204, nil)
	e.do("DELETE", "/v3/kms/"+byNonce[2].ID, e.keyTest, nil).want(t, 204, nil)
	e.queue(e.keyTest, `{"to":"`+fillRecipient+`","value":"1","from":"`+fillFrom+`"}`).want(t, 200, nil)
	byNonce = pendingByNonce(t, e)
	if len(byNonce) != n {
		t.Fatalf("after two deletions and one queue: %v", byNonce)
	}
	f, err := evm.ETH.ParseTx(byNonce[2].SerializedTransaction)
	if err != nil || f.To == nil || strings.ToLower(f.To.Hex()) != fillFrom || f.Value.Sign() != 0 || len(f.Missing()) != 0 ||
		!slices.Equal(byNonce[2].Hashes, []string{sigA}) {
		t.Fatalf("nonce 2 is not a complete zero-value self-transfer of the wallet: %+v, %v", byNonce[2], err)
	}
	for i := range uint64(n) {
		s, err := evm.ETH.Sign(ctx, chain.SignRequest{Serialized: byNonce[i].SerializedTransaction, Testnet: true,
			Keys: []string{fillKey}, ExtraChainIDs: []uint64{devchain.ChainID}})
		if err != nil {
			t.Fatalf("sign nonce %d: %v", i, err)
		}
		var out broadcastResponse
		e.do("POST", "/v3/ethereum/broadcast", e.keyTest, `{"txData":"`+s.TxData+`","signatureId":"`+byNonce[i].ID+`"}`).want(t, 200, &out)
		rc, err := devchain.WaitReceipt(ctx, dc.Client(), common.HexToHash(out.TxID))
		if err != nil || rc.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("nonce %d: receipt %+v, %v", i, rc, err)
		}
	}
	if next, err := node.PendingNonceAt(ctx, common.HexToAddress(fillFrom)); err != nil || next != n {
		t.Fatalf("sender's nonce %d, %v; want %d", next, err, n)
	}
	if left := pendingByNonce(t, e); len(left) != 0 {
		t.Fatalf("still pending: %v", left)
	}
}

// pendingByNonce reads the testnet key's pending ETH transactions by nonce.
func pendingByNonce(t *testing.T, e *env) map[uint64]pending.Tx {
	t.Helper()
	return pendingBySeq(t, e, "ETH", evm.ETH)
}

// pendingBySeq reads the testnet key's pending transactions of a chain by
// the sequence each carries.
func pendingBySeq(t *testing.T, e *env, code string, sq chain.Sequencer) map[uint64]pending.Tx {
	t.Helper()
	txs, err := e.store.Pending(t.Context(), pending.PendingQuery{Tenant: keyIDOf(t, e, e.keyTest), Chain: code})
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64]pending.Tx{}
	for _, tx := range txs {
		_, seq, err := sq.Sequence(tx.SerializedTransaction, true)
		if err != nil || seq == nil {
			t.Fatalf("stored %s: %v", tx.SerializedTransaction, err)
		}
		out[*seq] = tx
	}
	return out
}

// A refusal the node says will never heal ends the transaction: it is no
// longer served to signers, the reason is kept, and the answer says so
// (broadcast.failed), so that signers stop retrying it.
func TestBroadcastPermanentFails(t *testing.T) {
	e := newEnv(t)
	node := &fakeNode{err: fmt.Errorf("%w: %w: nonce too low", broadcast.ErrRejected, broadcast.ErrPermanent)}
	e.nodes.Set("ETH", false, node)
	id := e.create(e.keyA, "ETH", sigA)
	er := e.do("POST", "/v3/ethereum/broadcast", e.keyA, `{"txData":"0xsigned","signatureId":"`+id+`"}`).wantError(t, 403, CodeTxFailed)
	if !strings.Contains(er.Message, "nonce too low") {
		t.Fatalf("message %q", er.Message)
	}
	if txs, err := e.store.Pending(t.Context(), pending.PendingQuery{Tenant: e.idA, Chain: "ETH"}); err != nil || len(txs) != 0 {
		t.Fatalf("still pending after a permanent refusal: %+v, %v", txs, err)
	}
	if msgs, err := e.store.Errors(t.Context(), e.idA, id); err != nil || len(msgs) != 1 || !strings.Contains(msgs[0], "nonce too low") {
		t.Fatalf("errors kept %q, %v", msgs, err)
	}
}
