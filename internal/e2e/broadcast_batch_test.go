package e2e

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/custoskms/custos/internal/broadcast"
)

// Ganache takes the EVM client's JSON-RPC batch of eth_sendRawTransaction
// calls (the server's broadcast batch route sends one): each transaction
// answers its own hash and reaches the node, and sending the batch again
// answers the same hashes (the node already holds them).
func TestBroadcastBatchGanache(t *testing.T) {
	url := startGanache(t)
	client, err := broadcast.DialEVM(url)
	if err != nil {
		t.Fatal(err)
	}
	key := ganacheFunder(t)
	signer := types.LatestSignerForChainID(new(big.Int).SetUint64(chainID))
	var txs, hashes []string
	for nonce := range uint64(3) {
		tx, err := types.SignNewTx(key, signer, &types.LegacyTx{Nonce: nonce, To: &common.Address{0xc0, 0xff, 0xee},
			Value: big.NewInt(1), Gas: 21000, GasPrice: big.NewInt(50_000_000_000)})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := tx.MarshalBinary()
		txs, hashes = append(txs, hexutil.Encode(b)), append(hashes, tx.Hash().Hex())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for round := range 2 {
		out := client.BroadcastBatch(ctx, txs)
		for i, r := range out {
			if r.Err != nil || r.TxID != hashes[i] {
				t.Fatalf("round %d item %d: %+v, want %s", round, i, r, hashes[i])
			}
		}
	}
	// Each is mined (ganache's account nonce is no measure here: after
	// the second round it counts more transactions than it mined).
	for _, h := range hashes {
		for {
			rc, err := client.TransactionReceipt(ctx, common.HexToHash(h))
			if err == nil && rc.Status == types.ReceiptStatusSuccessful {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s is not mined: %v", h, err)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}
