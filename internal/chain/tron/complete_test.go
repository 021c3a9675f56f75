package tron_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/fbsobreira/gotron-sdk/pkg/address"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"google.golang.org/protobuf/proto"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/chain/tron"
)

// nowBlockID is a block id whose first 8 bytes are its height, 0x3c4d12e.
const nowBlockID = "0000000003c4d12e" + "a1b2c3d4e5f60718" + "00112233445566778899aabbccddeeff"

// fakeNode is a java-tron HTTP API with the two endpoints the flow uses: it
// answers getnowblock with a block whose time the test moves, and checks
// every broadcast transaction with gotron-sdk's protobuf types and
// go-ethereum's signature recovery, recording what it accepted.
type fakeNode struct {
	t        *testing.T
	now      atomic.Int64
	accepted atomic.Pointer[core.TransactionRaw]
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/wallet/getnowblock":
		_ = json.NewEncoder(w).Encode(map[string]any{"blockID": nowBlockID,
			"block_header": map[string]any{"raw_data": map[string]any{"number": 0x3c4d12e, "timestamp": f.now.Load()}}})
	case "/wallet/broadcasttransaction":
		var tx struct {
			TxID       string   `json:"txID"`
			RawDataHex string   `json:"raw_data_hex"`
			Signature  []string `json:"signature"`
		}
		if err := json.NewDecoder(r.Body).Decode(&tx); err != nil || len(tx.Signature) != 1 {
			f.refuse(w, "not a signed transaction")
			return
		}
		raw, _ := hex.DecodeString(tx.RawDataHex)
		var rd core.TransactionRaw
		if err := proto.Unmarshal(raw, &rd); err != nil {
			f.refuse(w, "raw_data_hex: "+err.Error())
			return
		}
		// java-tron re-encodes the raw data it parsed; other bytes would be another txID.
		if again, _ := (proto.MarshalOptions{Deterministic: true}).Marshal(&rd); hex.EncodeToString(again) != tx.RawDataHex {
			f.refuse(w, "raw_data_hex is not in canonical field order")
			return
		}
		var tc core.TransferContract
		if err := rd.GetContract()[0].GetParameter().UnmarshalTo(&tc); err != nil {
			f.refuse(w, err.Error())
			return
		}
		id := sha256.Sum256(raw)
		sig, _ := hex.DecodeString(tx.Signature[0])
		if len(sig) != 65 {
			f.refuse(w, "signature length")
			return
		}
		sig[64] -= 27
		pub, err := crypto.SigToPub(id[:], sig)
		if err != nil || address.PubkeyToAddress(*pub).String() != address.Address(tc.GetOwnerAddress()).String() || tx.TxID != hex.EncodeToString(id[:]) {
			f.refuse(w, "SIGERROR")
			return
		}
		if rd.GetExpiration() <= f.now.Load() {
			f.refuse(w, "TRANSACTION_EXPIRATION_ERROR")
			return
		}
		f.accepted.Store(&rd)
		_ = json.NewEncoder(w).Encode(map[string]any{"result": true, "txid": tx.TxID})
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeNode) refuse(w http.ResponseWriter, why string) {
	f.t.Errorf("node refused: %s", why)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": "OTHER_ERROR", "message": hex.EncodeToString([]byte(why))})
}

// incomplete is the first TRON vector without its reference block,
// expiration, timestamp and txID, in both raw_data and raw_data_hex, and the
// key of its wallet.
func incomplete(t *testing.T) (string, string) {
	r := chaintest.SigningRows(t, "TRON")[0]
	var tx map[string]any
	if err := json.Unmarshal([]byte(r.PendingTransaction.SerializedTransaction), &tx); err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(tx["raw_data_hex"].(string))
	var rd core.TransactionRaw
	if err := proto.Unmarshal(raw, &rd); err != nil {
		t.Fatal(err)
	}
	rd.RefBlockBytes, rd.RefBlockHash, rd.Expiration, rd.Timestamp = nil, nil, 0, 0
	stripped, _ := (proto.MarshalOptions{Deterministic: true}).Marshal(&rd)
	tx["raw_data_hex"] = hex.EncodeToString(stripped)
	j := tx["raw_data"].(map[string]any)
	for _, k := range []string{"ref_block_bytes", "ref_block_hash", "expiration", "timestamp"} {
		delete(j, k)
	}
	delete(tx, "txID")
	b, _ := json.Marshal(tx)
	return string(b), chaintest.VectorKey(r)
}

// An incomplete transaction is let through validation, refused by the signer
// naming the missing field, completed from a local node, signed, and accepted
// by that node, which checks the signature and the filled fields; once the
// node's time passes its expiration it is reported expired, and Refresh
// makes it signable again.
func TestCompleteSignBroadcastExpire(t *testing.T) {
	ctx := context.Background()
	const t0 = 1900000000000
	f := &fakeNode{t: t}
	f.now.Store(t0)
	srv := httptest.NewServer(f)
	defer srv.Close()
	node, err := broadcast.DialTron(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ser, key := incomplete(t)

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
	rd := f.accepted.Load()
	want := t0 + tron.ExpirationWindow.Milliseconds()
	if hex.EncodeToString(rd.GetRefBlockBytes()) != "d12e" || hex.EncodeToString(rd.GetRefBlockHash()) != nowBlockID[16:32] ||
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
	f.now.Store(want)
	if expired, err := tron.TRON.Expired(ctx, node, done); err != nil || !expired {
		t.Errorf("at its expiration: expired %v, %v", expired, err)
	}
	fresh, err := tron.TRON.Refresh(ctx, node, done)
	if err != nil {
		t.Fatal(err)
	}
	if expired, err := tron.TRON.Expired(ctx, node, fresh); err != nil || expired {
		t.Errorf("refreshed: expired %v, %v", expired, err)
	}
	chaintest.SignAndBroadcast(t, tron.TRON, node, chain.SignRequest{Serialized: fresh, Keys: []string{key}})
	if got := f.accepted.Load().GetExpiration(); got != want+tron.ExpirationWindow.Milliseconds() {
		t.Errorf("refreshed expiration %d", got)
	}

	if _, err := tron.TRON.CompleteFromNode(ctx, struct{}{}, ser, false); err == nil || !strings.Contains(err.Error(), "getnowblock") {
		t.Errorf("a client without NowBlock: %v", err)
	}
	noHex := strings.Replace(ser, `"raw_data_hex"`, `"raw_data_hex_"`, 1)
	if _, err := tron.TRON.CompleteFromNode(ctx, node, noHex, false); !errors.Is(err, chain.ErrInvalidTx) {
		t.Errorf("completing without raw_data_hex: %v", err)
	}
}
