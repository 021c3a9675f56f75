package e2e

import (
	"encoding/json"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// TestSpeedUpDevChain: a transfer signed at a gas price of 1 wei, below
// the dev chain's base fee, waits in the node's pool; POST
// /v3/kms/speedup/{id} queues it again at its nonce paying the node's
// price, the signer signs and broadcasts that like any transaction, the
// replacement is mined and confirmed, and the stuck original becomes
// replaced, naming the winner, in its webhook (HMAC verified) and on GET.
//
// Then a second transfer stuck the same way is cancelled: the zero-value
// self-transfer at its nonce is mined instead, and the payee gets nothing more.
func TestSpeedUpDevChain(t *testing.T) {
	s, w, got, ctx, secret := trackingStack(t, newFunder(t), "KMS_TX_CONFIRMED", "KMS_TX_REPLACED")
	payee := randomAddress(t)
	d := s.newDaemon(s.client(), nil)
	// stuckThenReplaced queues and broadcasts a transfer of value at 1 wei
	// a gas, checks that blocks go by without it, asks route for its
	// replacement, has that signed and broadcast, and waits for the
	// replacement confirmed and the original replaced. It returns the
	// replacement's txId.
	stuckThenReplaced := func(value int64, route string) string {
		t.Helper()
		stuck, _ := json.Marshal(map[string]any{"from": w.addr.Hex(), "to": payee.Hex(), "value": big.NewInt(value).String(),
			"gas": 21000, "gasPrice": "1", "chainId": chainID})
		origID := s.queue(w, string(stuck), false)
		if sum, err := d.RunOnce(ctx); err != nil || sum.Submitted != 1 {
			t.Fatalf("daemon run: %+v %v", sum, err)
		}
		orig := s.get(origID)
		time.Sleep(500 * time.Millisecond)
		if _, err := s.node.TransactionReceipt(ctx, common.HexToHash(orig.TxID)); err == nil {
			t.Fatal("the transaction paying 1 wei was mined: it cannot show a replacement")
		}
		var rep struct{ ID string }
		if code := s.apiDo(http.MethodPost, "/v3/kms/"+route+"/"+origID, nil, &rep); code != http.StatusOK || len(rep.ID) != 24 {
			t.Fatalf("POST /v3/kms/%s: %d %+v", route, code, rep)
		}
		if sum, err := d.RunOnce(ctx); err != nil || sum.Submitted != 1 {
			t.Fatalf("daemon run signing the replacement: %+v %v", sum, err)
		}
		replacement := s.get(rep.ID)
		if replacement.TxID == "" || replacement.TxID == orig.TxID {
			t.Fatalf("replacement %+v of %s", replacement, orig.TxID)
		}
		replacedBy(t, got, secret, origID, orig.TxID, rep.ID, replacement.TxID)
		var detail struct {
			Status     string `json:"status"`
			ReplacedBy string `json:"replacedBy"`
		}
		s.apiDo(http.MethodGet, "/v3/kms/"+origID, nil, &detail)
		if detail.Status != "replaced" || detail.ReplacedBy != replacement.TxID {
			t.Fatalf("GET original: %+v", detail)
		}
		return replacement.TxID
	}

	fast := stuckThenReplaced(5000, "speedup")
	r := s.receipt(ctx, common.HexToHash(fast))
	if r.Status != 1 || s.balance(payee).Cmp(big.NewInt(5000)) != 0 {
		t.Fatalf("replacement receipt status %d, payee balance %s", r.Status, s.balance(payee))
	}

	// Cancel: the next nonce, stuck at 1 wei as well.
	cancelled := stuckThenReplaced(7000, "cancel")
	r = s.receipt(ctx, common.HexToHash(cancelled))
	if r.Status != 1 || r.GasUsed != 21000 || s.balance(payee).Cmp(big.NewInt(5000)) != 0 {
		t.Fatalf("cancel receipt status %d gas %d, payee balance %s (want 5000: the cancelled 7000 never paid)", r.Status, r.GasUsed, s.balance(payee))
	}
}

// replacedBy waits for the two events of a replacement that won: the
// winner confirmed and the loser replaced, naming the winner.
func replacedBy(t *testing.T, got chan hook, secret, loserID, loserTxID, winnerID, winnerTxID string) {
	t.Helper()
	byType := map[string]hook{}
	deadline := time.After(30 * time.Second)
	for len(byType) < 2 {
		select {
		case h := <-got:
			byType[h.v.SubscriptionType] = verified(t, secret, h)
		case <-deadline:
			t.Fatalf("deliveries after 30 s: %v", byType)
		}
	}
	if c := byType["KMS_TX_CONFIRMED"].v; c.SignatureID != winnerID || c.TxID != winnerTxID || c.Status != "confirmed" {
		t.Fatalf("confirmed event %s, want the replacement's", byType["KMS_TX_CONFIRMED"])
	}
	if r := byType["KMS_TX_REPLACED"].v; r.SignatureID != loserID || r.TxID != loserTxID || r.Status != "replaced" || r.ReplacedBy != winnerTxID {
		t.Fatalf("replaced event %s, want %s replaced by %s", byType["KMS_TX_REPLACED"], loserID, winnerTxID)
	}
}
