package nodetest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/fbsobreira/gotron-sdk/pkg/address"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"google.golang.org/protobuf/proto"

	"github.com/custoskms/custos/internal/chain/chaintest"
)

// TronNowBlockID is a block id whose first 8 bytes are its height, 0x3c4d12e.
const TronNowBlockID = "0000000003c4d12e" + "a1b2c3d4e5f60718" + "00112233445566778899aabbccddeeff"

// Tron is a java-tron HTTP API with the endpoints the flow uses: it
// answers getnowblock with a block whose time the test moves, getnodeinfo
// (which TronWeb asks when Tatum's SDK builds it) with a node version, and
// checks every broadcast transaction with gotron-sdk's protobuf types and
// go-ethereum's signature recovery, recording what it accepted.
type Tron struct {
	T        testing.TB
	Now      atomic.Int64 // the time of the node's latest block, in ms
	NodeInfo atomic.Int64 // getnodeinfo requests answered
	mu       sync.Mutex
	raw      []*core.TransactionRaw
	ids      []string
	bodies   []string
}

// Bodies are the accepted broadcasts as they were received, in order.
func (f *Tron) Bodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

// Last is the raw data of the transaction accepted last.
func (f *Tron) Last() *core.TransactionRaw {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.raw) == 0 {
		return nil
	}
	return f.raw[len(f.raw)-1]
}

// IDs are the ids of the transactions accepted, in order.
func (f *Tron) IDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ids...)
}

func (f *Tron) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/wallet/getnodeinfo":
		f.NodeInfo.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"configNodeInfo": map[string]any{"codeVersion": "4.7.4"}})
	case "/wallet/getnowblock":
		_ = json.NewEncoder(w).Encode(map[string]any{"blockID": TronNowBlockID,
			"block_header": map[string]any{"raw_data": map[string]any{"number": 0x3c4d12e, "timestamp": f.Now.Load()}}})
	case "/wallet/broadcasttransaction":
		var tx struct {
			TxID       string   `json:"txID"`
			RawDataHex string   `json:"raw_data_hex"`
			Signature  []string `json:"signature"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &tx); err != nil || len(tx.Signature) != 1 {
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
		// java-tron reads v as 27/28 or 0/1 (it adds 27 below 27): Custos
		// writes the first, TronWeb the second.
		if sig[64] >= 27 {
			sig[64] -= 27
		}
		pub, err := crypto.SigToPub(id[:], sig)
		if err != nil || address.PubkeyToAddress(*pub).String() != address.Address(tc.GetOwnerAddress()).String() || tx.TxID != hex.EncodeToString(id[:]) {
			f.refuse(w, "SIGERROR")
			return
		}
		if rd.GetExpiration() <= f.Now.Load() {
			f.refuse(w, "TRANSACTION_EXPIRATION_ERROR")
			return
		}
		f.mu.Lock()
		f.raw, f.ids, f.bodies = append(f.raw, &rd), append(f.ids, tx.TxID), append(f.bodies, string(body))
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"result": true, "txid": tx.TxID})
	default:
		http.NotFound(w, r)
	}
}

func (f *Tron) refuse(w http.ResponseWriter, why string) {
	f.T.Errorf("node refused: %s", why)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": "OTHER_ERROR", "message": hex.EncodeToString([]byte(why))})
}

// TronIncomplete is the first TRON vector without its reference block,
// expiration, timestamp and txID, in both raw_data and raw_data_hex, and the
// key of its wallet.
func TronIncomplete(t testing.TB) (string, string) {
	t.Helper()
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
