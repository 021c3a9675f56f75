package egld

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

// fillerNode answers the gateway reads a Tatum-form transaction needs.
type fillerNode struct{ cfg NetworkConfig }

func (n fillerNode) AccountNonce(context.Context, string) (uint64, error) { return 0, nil }
func (n fillerNode) NetworkConfig(context.Context) (NetworkConfig, error) { return n.cfg, nil }

// The filler of a freed nonce validates, is completed from the node, and
// signs to a zero-value transfer from the sender to itself at that nonce,
// whose ed25519 signature verifies with the sender's key.
func TestFiller(t *testing.T) {
	var sender, key string
	for _, r := range chaintest.SigningRows(t, "EGLD") {
		if !r.Testnet {
			var want chaintest.Expected
			if err := json.Unmarshal(r.Expected, &want); err != nil {
				t.Fatal(err)
			}
			sender, key = want.From, chaintest.VectorKey(r)
			break
		}
	}
	node := fillerNode{NetworkConfig{ChainID: "1", MinGasPrice: 1_000_000_000, MinGasLimit: 50_000, GasPerDataByte: 1_500, MinTxVersion: 1}}
	done := chaintest.Filler(t, EGLD, sender, 42, false, node)
	s, err := EGLD.Sign(context.Background(), chain.SignRequest{Serialized: done, Keys: []string{key}})
	if err != nil {
		t.Fatalf("Sign(%s): %v", done, err)
	}
	var got struct {
		Nonce     uint64 `json:"nonce"`
		Value     string `json:"value"`
		Sender    string `json:"sender"`
		Receiver  string `json:"receiver"`
		GasLimit  uint64 `json:"gasLimit"`
		Signature string `json:"signature"`
	}
	if err := json.Unmarshal([]byte(s.TxData), &got); err != nil {
		t.Fatal(err)
	}
	if got.Nonce != 42 || got.Value != "0" || got.Sender != sender || got.Receiver != sender || got.GasLimit != 50_000 {
		t.Errorf("signed filler: %s", s.TxData)
	}
	tx, err := ParseSigned(s.TxData)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := DecodeAddress(sender)
	sig, _ := hex.DecodeString(got.Signature)
	if !ed25519.Verify(pub, tx.SigningBytes(), sig) {
		t.Error("the signature does not verify with the sender's key")
	}
	if _, err := EGLD.Filler("rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1", 1); err == nil {
		t.Error("a filler for a non-EGLD sender")
	}
}
