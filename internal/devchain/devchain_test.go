package devchain

import (
	"context"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// A transaction sent over HTTP is mined by the sealing loop without a Commit
// call, and the node reports the chain id and the genesis balance.
func TestTransferMinedWithoutCommit(t *testing.T) {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	to := common.HexToAddress("0x00000000000000000000000000000000000c0575")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := Start(ctx, Options{Alloc: map[common.Address]*big.Int{from: new(big.Int).Mul(big.NewInt(5), Ether)}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.HasPrefix(c.URL(), "http://127.0.0.1:") {
		t.Fatalf("url %s", c.URL())
	}
	cl, err := ethclient.DialContext(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	id, err := cl.ChainID(ctx)
	if err != nil || id.Int64() != ChainID {
		t.Fatalf("chain id %v %v", id, err)
	}
	bal, err := cl.BalanceAt(ctx, from, nil)
	if err != nil || bal.Cmp(new(big.Int).Mul(big.NewInt(5), Ether)) != 0 {
		t.Fatalf("genesis balance %v %v", bal, err)
	}
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(big.NewInt(ChainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(ChainID), Nonce: 0, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(10e9),
		Gas: 21000, To: &to, Value: big.NewInt(12345)})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	r := waitReceipt(t, ctx, cl, tx.Hash())
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("status %d", r.Status)
	}
	got, err := cl.BalanceAt(ctx, to, nil)
	if err != nil || got.Int64() != 12345 {
		t.Fatalf("recipient balance %v %v", got, err)
	}
	// The pool drops a mined transaction when it processes the new head,
	// asynchronously to the receipt becoming readable: wait for it.
	for n, err := c.Pending(ctx); n != 0 || err != nil; n, err = c.Pending(ctx) {
		if err != nil || ctx.Err() != nil {
			t.Fatalf("pool after mining: %d %v", n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	// Closed means the port is released.
	if _, err := cl.ChainID(ctx); err == nil {
		t.Fatal("node still answers after Close")
	}
}

func waitReceipt(t *testing.T, ctx context.Context, cl *ethclient.Client, h common.Hash) *types.Receipt {
	t.Helper()
	r, err := WaitReceipt(ctx, cl, h)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A fixed port that is taken is an error, not a panic.
func TestPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	c, err := Start(t.Context(), Options{Port: port})
	if err == nil {
		c.Close()
		t.Fatal("started on a port in use")
	}
	if !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("error does not name the port: %v", err)
	}
}

// Blocks move on their own, even with an empty pool.
func TestPeriodicBlocks(t *testing.T) {
	c, err := Start(t.Context(), Options{BlockPeriod: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := c.Client().BlockNumber(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n >= 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("block %d after 10 s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// While sealing is paused a sent transaction waits in the pool; DropPool
// forgets it, the sender's pending nonce falls back, and the same signed
// transaction sent again after resuming is mined.
func TestPauseAndDropPool(t *testing.T) {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := Start(ctx, Options{Alloc: map[common.Address]*big.Int{from: Ether}, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := ethclient.DialContext(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	to := common.HexToAddress("0x00000000000000000000000000000000000c0575")
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(big.NewInt(ChainID)), &types.DynamicFeeTx{
		ChainID: big.NewInt(ChainID), GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(10e9), Gas: 21000, To: &to, Value: big.NewInt(1)})
	if err != nil {
		t.Fatal(err)
	}
	resume := c.Pause()
	defer resume()
	if err := cl.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // ten polls of the sealing loop
	if n, err := c.Pending(ctx); err != nil || n != 1 {
		t.Fatalf("pool while paused: %d %v, want 1", n, err)
	}
	c.DropPool()
	if n, err := c.Pending(ctx); err != nil || n != 0 {
		t.Fatalf("pool after DropPool: %d %v, want 0", n, err)
	}
	if nonce, err := cl.PendingNonceAt(ctx, from); err != nil || nonce != 0 {
		t.Fatalf("pending nonce after DropPool: %d %v, want 0", nonce, err)
	}
	resume()
	if _, _, err := cl.TransactionByHash(ctx, tx.Hash()); err == nil {
		t.Fatal("the node still knows the dropped transaction")
	}
	if err := cl.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if r := waitReceipt(t, ctx, cl, tx.Hash()); r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("status %d", r.Status)
	}
}
