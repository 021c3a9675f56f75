package tron_test

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/broadcast/nodetest"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/chain/tron"
)

// An incomplete transaction is let through validation, refused by the signer
// naming the missing field, completed from a local node, signed, and accepted
// by that node, which checks the signature and the filled fields; once the
// node's time passes its expiration it is reported expired.
func TestCompleteSignBroadcastExpire(t *testing.T) {
	ctx := context.Background()
	const t0 = 1900000000000
	f := &nodetest.Tron{T: t}
	f.Now.Store(t0)
	srv := httptest.NewServer(f)
	defer srv.Close()
	node, err := broadcast.DialTron(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ser, key := nodetest.TronIncomplete(t)

	if err := tron.TRON.ValidateTx(ser, false); err != nil {
		t.Fatalf("validation refuses the incomplete transaction: %v", err)
	}
	missing, err := tron.TRON.MissingFields(ser)
	if err != nil || strings.Join(missing, ",") != "ref_block_bytes,ref_block_hash,expiration" {
		t.Fatalf("MissingFields = %v, %v", missing, err)
	}
	if _, err := tron.TRON.Sign(ctx, chain.SignRequest{Serialized: ser, Keys: []string{key}}); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "ref_block_bytes") {
		t.Fatalf("signing the incomplete transaction: %v", err)
	}
	if expired, err := tron.TRON.Expired(ctx, node, ser); err != nil || expired {
		t.Errorf("an incomplete transaction is expired: %v, %v", expired, err)
	}

	done, err := tron.TRON.CompleteFromNode(ctx, node, ser, false)
	if err != nil {
		t.Fatal(err)
	}
	if missing, err := tron.TRON.MissingFields(done); err != nil || missing != nil {
		t.Fatalf("after completion MissingFields = %v, %v", missing, err)
	}
	chaintest.SignAndBroadcast(t, tron.TRON, node, chain.SignRequest{Serialized: done, Keys: []string{key}})
	rd := f.Last()
	want := t0 + tron.ExpirationWindow.Milliseconds()
	if hex.EncodeToString(rd.GetRefBlockBytes()) != "d12e" || hex.EncodeToString(rd.GetRefBlockHash()) != nodetest.TronNowBlockID[16:32] ||
		rd.GetExpiration() != want || rd.GetTimestamp() != t0 {
		t.Errorf("filled ref %x %x expiration %d timestamp %d", rd.GetRefBlockBytes(), rd.GetRefBlockHash(), rd.GetExpiration(), rd.GetTimestamp())
	}
	// A complete transaction is left as it is.
	if again, err := tron.TRON.CompleteFromNode(ctx, node, done, false); err != nil || again != done {
		t.Errorf("completing a complete transaction changed it: %v", err)
	}

	if expired, err := tron.TRON.Expired(ctx, node, done); err != nil || expired {
		t.Errorf("fresh transaction: expired %v, %v", expired, err)
	}
	f.Now.Store(want)
	if expired, err := tron.TRON.Expired(ctx, node, done); err != nil || !expired {
		t.Errorf("at its expiration: expired %v, %v", expired, err)
	}

	if _, err := tron.TRON.CompleteFromNode(ctx, struct{}{}, ser, false); err == nil || !strings.Contains(err.Error(), "getnowblock") {
		t.Errorf("a client without NowBlock: %v", err)
	}
	noHex := strings.Replace(ser, `"raw_data_hex"`, `"raw_data_hex_"`, 1)
	if _, err := tron.TRON.CompleteFromNode(ctx, node, noHex, false); !errors.Is(err, chain.ErrInvalidTx) {
		t.Errorf("completing without raw_data_hex: %v", err)
	}
}
