package nodetest

import (
	"bytes"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

func TestEVMAdmitsTheSendersNextNonceOnItsChainOnly(t *testing.T) {
	node := NewEVM(1337, 7)
	srv := httptest.NewServer(node)
	defer srv.Close()
	call := func(method string, params ...any) (json.RawMessage, string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
		resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Result json.RawMessage
			Error  *struct{ Message string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		if out.Error != nil {
			return nil, out.Error.Message
		}
		return out.Result, ""
	}
	key, _ := crypto.GenerateKey()
	from := crypto.PubkeyToAddress(key.PublicKey)
	signed := func(chainID, nonce uint64) string {
		tx, err := types.SignNewTx(key, types.LatestSignerForChainID(new(big.Int).SetUint64(chainID)),
			&types.LegacyTx{Nonce: nonce, To: &common.Address{1}, Value: big.NewInt(1), Gas: 21000, GasPrice: big.NewInt(7)})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := tx.MarshalBinary()
		return hexutil.Encode(b)
	}

	if _, msg := call("eth_sendRawTransaction", signed(1, 0)); !strings.Contains(msg, "invalid sender") {
		t.Fatalf("another chain's transaction: %q", msg)
	}
	if _, msg := call("eth_sendRawTransaction", signed(1337, 1)); !strings.Contains(msg, "nonce 1, want 0") {
		t.Fatalf("a gapped nonce: %q", msg)
	}
	res, msg := call("eth_sendRawTransaction", signed(1337, 0))
	var hash common.Hash
	if msg != "" || json.Unmarshal(res, &hash) != nil {
		t.Fatalf("the next nonce: %s %q", res, msg)
	}
	if _, msg := call("eth_sendRawTransaction", signed(1337, 0)); !strings.Contains(msg, "nonce 0, want 1") {
		t.Fatalf("a replay: %q", msg)
	}
	if node.Nonce(from) != 1 || node.Admitted() != 1 {
		t.Fatalf("took %d from the sender, %d in all; want 1, 1", node.Nonce(from), node.Admitted())
	}
	if res, _ := call("eth_getTransactionCount", from, "pending"); string(res) != `"0x1"` {
		t.Fatalf("pending count %s", res)
	}
	if res, _ := call("eth_getTransactionReceipt", hash); string(res) != "null" {
		t.Fatalf("receipt of a pooled transaction: %s", res)
	}
	var pooled struct{ Hash common.Hash }
	if res, _ := call("eth_getTransactionByHash", hash); json.Unmarshal(res, &pooled) != nil || pooled.Hash != hash {
		t.Fatalf("pooled transaction: %s", res)
	}
	if res, _ := call("eth_getTransactionByHash", common.Hash{2}); string(res) != "null" {
		t.Fatalf("unknown transaction: %s", res)
	}
}
