package broadcast

import (
	"context"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// TestEVMLookupOnDevChain follows transactions on go-ethereum's simulated
// backend, whose blocks are sealed only on Commit and whose Rollback empties
// the pool as a node that lost a transaction would.
func TestEVMLookupOnDevChain(t *testing.T) {
	sim, nodeURL := devNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := DialEVM(nodeURL)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(txID, txData string) Outcome {
		t.Helper()
		o, err := client.Lookup(ctx, txID, txData)
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		return o
	}
	// commit seals a block once the pool holds the sender's transactions
	// below nonce: the pool takes a broadcast asynchronously, and a block
	// sealed before would not hold it.
	commit := func(nonce uint64) {
		t.Helper()
		for {
			n, err := sim.Client().PendingNonceAt(ctx, common.HexToAddress(devFrom))
			if err != nil {
				t.Fatal(err)
			}
			if n >= nonce {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		sim.Commit()
	}
	transfer := func(nonce int, to string) (string, string) {
		s := signETH(t, `{"to":"`+to+`","value":"1","gasPrice":"50000000000","gas":21000,"nonce":`+itoa(nonce)+`,"chainId":1337}`)
		return s.TxID, s.TxData
	}

	id0, data0 := transfer(0, recipient)
	if _, err := client.Broadcast(ctx, data0); err != nil {
		t.Fatal(err)
	}
	if o := lookup(id0, data0); o.Progress != Pending {
		t.Fatalf("pooled: %+v, want Pending", o)
	}
	// Lost from the pool with its nonce still free: Missing, and the same
	// bytes are accepted again.
	sim.Rollback()
	if o := lookup(id0, data0); o.Progress != Missing {
		t.Fatalf("lost: %+v, want Missing", o)
	}
	if o := lookup(id0, ""); o.Progress != Unknown {
		t.Fatalf("lost without its bytes: %+v, want Unknown", o)
	}
	if _, err := client.Broadcast(ctx, data0); err != nil {
		t.Fatal(err)
	}
	commit(1)
	o := lookup(id0, data0)
	if o.Progress != Mined || o.Confirmations != 1 || o.Failed || o.Fee != "1050000000000000" || o.BlockNumber == 0 {
		t.Fatalf("mined: %+v, want one confirmation and 21000 × 50 gwei", o)
	}
	sim.Commit()
	if o2 := lookup(id0, data0); o2.Confirmations != 2 || o2.BlockNumber != o.BlockNumber {
		t.Fatalf("a block later: %+v", o2)
	}

	// Nonce 1 is lost, then another transaction takes it: Dropped.
	id1, data1 := transfer(1, recipient)
	if _, err := client.Broadcast(ctx, data1); err != nil {
		t.Fatal(err)
	}
	sim.Rollback()
	_, other := transfer(1, devFrom)
	if _, err := client.Broadcast(ctx, other); err != nil {
		t.Fatal(err)
	}
	if o := lookup(id1, data1); o.Progress != Unknown {
		t.Fatalf("nonce held by another pooled transaction: %+v, want Unknown", o)
	}
	commit(2)
	if o := lookup(id1, data1); o.Progress != Dropped || o.Error == "" {
		t.Fatalf("nonce taken: %+v, want Dropped", o)
	}

}
