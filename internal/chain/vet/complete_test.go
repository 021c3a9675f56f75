package vet_test

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/broadcast/nodetest"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/chain/vet"
)

// In Tatum's form without chainTag, blockRef, gas, nonce and expiration: a
// transfer and a token call are let through validation, refused by the
// signer naming a missing field, completed from a local Thor node, signed,
// and accepted by that node, which recovers the signer and checks the filled
// fields; past blockRef + expiration it is reported expired.
func TestCompleteSignBroadcastExpire(t *testing.T) {
	ctx := context.Background()
	var row = chaintest.SigningRows(t, "VET")[0]
	if !row.Testnet || row.Format != "tatum" {
		t.Fatal("vector layout changed")
	}
	key := chaintest.VectorKey(row)
	k, err := crypto.HexToECDSA(strings.TrimPrefix(key, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	from := strings.ToLower(crypto.PubkeyToAddress(k.PublicKey).Hex())
	f := &nodetest.Thor{T: t, Best: 0x00ab12cd, Want: from}
	srv := httptest.NewServer(f)
	defer srv.Close()
	node, err := broadcast.DialVeChain(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	data := "0xa9059cbb" + strings.Repeat("00", 12) + "4605ec56dbf64f86fc0525f0145c7bbb5bee407a" + strings.Repeat("00", 31) + "0a"
	dataBytes, _ := hex.DecodeString(data[2:])
	dataGas := uint64(0)
	for _, b := range dataBytes {
		dataGas += map[bool]uint64{true: 4, false: 68}[b == 0]
	}
	for _, c := range []struct {
		name, ser string
		gas       uint64
	}{
		{"transfer", `{"from":0,"to":"0x4605ec56dbf64f86fc0525f0145c7bbb5bee407a","value":"1000000000000000000"}`, 21000},
		{"token call", `{"from":"` + from + `","to":"0x0000000000000000000000000000456e65726779","value":"0","data":"` + data + `"}`,
			5000 + 16000 + dataGas + nodetest.ThorGasUsedByData + 15000},
	} {
		f.SetBest(0x00ab12cd)
		ser := c.ser
		if err := vet.VET.ValidateTx(ser, true); err != nil {
			t.Fatalf("%s: validation refuses it: %v", c.name, err)
		}
		if missing, err := vet.VET.MissingFields(ser); err != nil || strings.Join(missing, ",") != "chainTag,blockRef,gas,nonce" {
			t.Fatalf("%s: MissingFields = %v, %v", c.name, missing, err)
		}
		if _, err := vet.VET.Sign(ctx, chain.SignRequest{Serialized: ser, Testnet: true, Keys: []string{key}}); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "chainTag") {
			t.Fatalf("%s: signing it: %v", c.name, err)
		}
		if expired, err := vet.VET.Expired(ctx, node, ser); err != nil || expired {
			t.Errorf("%s: incomplete is expired: %v, %v", c.name, expired, err)
		}
		done, err := vet.VET.CompleteFromNode(ctx, node, ser, true)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if missing, err := vet.VET.MissingFields(done); err != nil || missing != nil {
			t.Fatalf("%s: after completion MissingFields = %v, %v", c.name, missing, err)
		}
		if again, err := vet.VET.CompleteFromNode(ctx, node, done, true); err != nil || again != done {
			t.Errorf("%s: completing a complete transaction changed it: %v", c.name, err)
		}
		chaintest.SignAndBroadcast(t, vet.VET, node, chain.SignRequest{Serialized: done, Testnet: true, Keys: []string{key}})
		if got := f.Got(); got.ChainTag != 0x27 || got.BlockRef>>32 != 0x00ab12cd || got.Expiration != 720 || got.Gas != c.gas {
			t.Errorf("%s: filled chainTag %#x blockRef %#x expiration %d gas %d, want gas %d", c.name, got.ChainTag, got.BlockRef, got.Expiration, got.Gas, c.gas)
		}
		if strings.HasPrefix(c.ser, `{"from":"`) && f.Caller() != from {
			t.Errorf("%s: dry run as %q", c.name, f.Caller())
		}

		f.SetBest(0x00ab12cd + 719)
		if expired, err := vet.VET.Expired(ctx, node, done); err != nil || expired {
			t.Errorf("%s: last block of the window: expired %v, %v", c.name, expired, err)
		}
		f.SetBest(0x00ab12cd + 720)
		if expired, err := vet.VET.Expired(ctx, node, done); err != nil || !expired {
			t.Errorf("%s: past the window: expired %v, %v", c.name, expired, err)
		}
	}

	call := `{"to":"0x0000000000000000000000000000456e65726779","value":"0","data":"` + data + `"}`
	if _, err := vet.VET.CompleteFromNode(ctx, node, call, true); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), `"from"`) {
		t.Errorf("a call without from: %v", err)
	}
	f.SetRevert(true)
	withFrom := strings.Replace(call, "{", `{"from":"`+from+`",`, 1)
	if _, err := vet.VET.CompleteFromNode(ctx, node, withFrom, true); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "reverts") {
		t.Errorf("a reverting call: %v", err)
	}
	if _, err := vet.VET.CompleteFromNode(ctx, node, `{"to":"0x4605ec56dbf64f86fc0525f0145c7bbb5bee407a","value":"1"}`, false); !errors.Is(err, chain.ErrWrongNetwork) {
		t.Errorf("a testnet node for a mainnet transaction: %v", err)
	}
	if _, err := vet.VET.CompleteFromNode(ctx, struct{}{}, `{"to":"0x4605ec56dbf64f86fc0525f0145c7bbb5bee407a","value":"1"}`, true); err == nil || !strings.Contains(err.Error(), "/blocks/best") {
		t.Errorf("a client without the read methods: %v", err)
	}
}

// The native form is complete as queued, and Expired reads its window from
// the RLP body.
func TestExpiredNative(t *testing.T) {
	ctx := context.Background()
	var row = chaintest.SigningRows(t, "VET")[3]
	if !row.Testnet || row.Format != "native" {
		t.Fatal("vector layout changed")
	}
	ser := row.PendingTransaction.SerializedTransaction
	f := &nodetest.Thor{T: t, Best: 0xb0000000} // past the vector blockRef 0xa50d3a27… + 720
	srv := httptest.NewServer(f)
	defer srv.Close()
	node, _ := broadcast.DialVeChain(srv.URL)
	if missing, err := vet.VET.MissingFields(ser); err != nil || missing != nil {
		t.Fatalf("MissingFields = %v, %v", missing, err)
	}
	if expired, err := vet.VET.Expired(ctx, node, ser); err != nil || !expired {
		t.Fatalf("expired %v, %v", expired, err)
	}
	f.SetBest(0xa50d3a27)
	if expired, err := vet.VET.Expired(ctx, node, ser); err != nil || expired {
		t.Errorf("at its blockRef: expired %v, %v", expired, err)
	}
}
