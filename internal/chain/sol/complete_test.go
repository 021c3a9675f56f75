package sol_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	solana "github.com/gagliardetto/solana-go"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/broadcast/nodetest"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/chain/sol"
)

// In both forms, a message queued with an all-zero blockhash passes
// validation, is refused by the signer naming recentBlockhash, is completed
// from a local node, signed, and accepted by that node, which checks every
// signature and the blockhash; once the node no longer knows the blockhash
// it is reported expired.
func TestCompleteSignBroadcastExpire(t *testing.T) {
	ctx := context.Background()
	f := &nodetest.Solana{T: t}
	first := solana.Hash{1, 2, 3}
	f.SetLatest(first)
	srv := httptest.NewServer(f)
	defer srv.Close()
	node, err := broadcast.DialSolana(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	msg, key := nodetest.SolanaWithoutBlockhash(t)
	for name, ser := range map[string]string{
		"native": base64.StdEncoding.EncodeToString(msg),
		"tatum":  `{"txData":"` + hex.EncodeToString(msg) + `"}`,
	} {
		f.SetLatest(first)
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
		if got := f.Last().Message.RecentBlockhash; got != first {
			t.Errorf("%s: sent blockhash %s, want %s", name, got, first)
		}

		if expired, err := sol.SOL.Expired(ctx, node, done); err != nil || expired {
			t.Errorf("%s: fresh: expired %v, %v", name, expired, err)
		}
		second := solana.Hash{4, 5, 6}
		f.SetLatest(second) // the first blockhash is now past its window
		if expired, err := sol.SOL.Expired(ctx, node, done); err != nil || !expired {
			t.Errorf("%s: after the window: expired %v, %v", name, expired, err)
		}
	}
	if _, err := sol.SOL.CompleteFromNode(ctx, struct{}{}, base64.StdEncoding.EncodeToString(msg), false); err == nil || !strings.Contains(err.Error(), "getLatestBlockhash") {
		t.Errorf("a client without the read methods: %v", err)
	}
}
