package broadcast

import (
	"context"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/evm"
)

// Keys of the `abandon … about` mnemonic (ETH testnet path, index 0 and 1),
// as in the shared vectors. Only the first is funded on the dev chain.
const (
	devKey    = "0xe01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc"
	devFrom   = "0xb157e208264ff9edebbcb1d36e66d156df8afa6c"
	devChain  = 1337 // go-ethereum's simulated backend
	recipient = "0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// devNode starts go-ethereum's simulated backend with its JSON-RPC served over
// HTTP on loopback, the way `custos dev` runs it, and returns its URL.
func devNode(t *testing.T) (*simulated.Backend, string) {
	t.Helper()
	port := freePort(t)
	alloc := types.GenesisAlloc{common.HexToAddress(devFrom): {Balance: new(big.Int).Lsh(big.NewInt(1), 100)}}
	sim := simulated.NewBackend(alloc, func(nc *node.Config, _ *ethconfig.Config) {
		nc.HTTPHost = "127.0.0.1"
		nc.HTTPPort = port
		nc.HTTPModules = []string{"eth", "net", "web3"}
	})
	t.Cleanup(func() { sim.Close() })
	return sim, "http://127.0.0.1:" + itoa(port)
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

func signETH(t *testing.T, ser string, keys ...string) chain.Signed {
	t.Helper()
	if keys == nil {
		keys = []string{devKey}
	}
	s, err := evm.ETH.Sign(context.Background(), chain.SignRequest{Serialized: ser, Testnet: true, Keys: keys, ExtraChainIDs: []uint64{devChain}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEVMBroadcastOnDevChain(t *testing.T) {
	sim, nodeURL := devNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	nodes, err := Dial([]NodeSpec{{Chain: "ETH", Testnet: true, URL: nodeURL}}, testDialer)
	if err != nil {
		t.Fatal(err)
	}
	bc, err := nodes.Client("ETH", true)
	if err != nil {
		t.Fatal(err)
	}
	client := bc.(*EVMClient)

	// A Tatum-format transfer without nonce, gas, gas price or chain id is
	// completed from the node at creation, then signed offline.
	ser, err := evm.ETH.Complete(ctx, client, evm.CompleteRequest{
		Serialized: `{"to":"` + recipient + `","value":"1000000000000000"}`,
		From:       devFrom, Testnet: true, ExtraChainIDs: []uint64{devChain},
	})
	if err != nil {
		t.Fatal(err)
	}
	signed := signETH(t, ser)
	txID, err := client.Broadcast(ctx, signed.TxData)
	if err != nil || txID != signed.TxID {
		t.Fatalf("Broadcast = %s, %v; want %s", txID, err, signed.TxID)
	}
	// The same transaction again, still in the pool: "already known" is success.
	if again, err := client.Broadcast(ctx, signed.TxData); err != nil || again != txID {
		t.Fatalf("second Broadcast = %s, %v", again, err)
	}
	sim.Commit()
	rc, err := client.TransactionReceipt(ctx, common.HexToHash(txID))
	if err != nil || rc.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("receipt %+v, %v", rc, err)
	}
	bal, err := client.BalanceAt(ctx, common.HexToAddress(recipient), nil)
	if err != nil || bal.String() != "1000000000000000" {
		t.Fatalf("recipient balance %s, %v", bal, err)
	}
	// Once mined the node answers "nonce too low"; it is still the same transaction.
	if again, err := client.Broadcast(ctx, signed.TxData); err != nil || again != txID {
		t.Fatalf("Broadcast after mining = %s, %v", again, err)
	}

	// The native EIP-1559 form, nonce 1, with fees kept as given.
	tip, fee := big.NewInt(1_000_000_000), big.NewInt(50_000_000_000)
	to := common.HexToAddress(recipient)
	body, _ := rlp.EncodeToBytes([]any{big.NewInt(devChain), uint64(1), tip, fee, uint64(21000), to, big.NewInt(7), []byte{}, types.AccessList{}})
	native := "0x02" + common.Bytes2Hex(body)
	signed = signETH(t, native)
	if txID, err = client.Broadcast(ctx, signed.TxData); err != nil {
		t.Fatal(err)
	}
	sim.Commit()
	rc, err = client.TransactionReceipt(ctx, common.HexToHash(txID))
	if err != nil || rc.Status != types.ReceiptStatusSuccessful || rc.Type != types.DynamicFeeTxType {
		t.Fatalf("EIP-1559 receipt %+v, %v", rc, err)
	}

	// A transfer from an account without funds is the node's refusal.
	poor := "0x9a983cb3d832fbde5ab49d692b7a8bf5b5d232479c99333d0fc8e1d21f1b55b6"
	ser = `{"to":"` + recipient + `","value":"1","gasPrice":"50000000000","gas":21000,"nonce":0,"chainId":1337}`
	if _, err := client.Broadcast(ctx, signETH(t, ser, poor).TxData); !errors.Is(err, ErrRejected) {
		t.Fatalf("unfunded transfer: %v", err)
	}
	for _, bad := range []string{"", "0x", "f86c", "0xzz"} {
		if _, err := client.Broadcast(ctx, bad); !errors.Is(err, ErrRejected) {
			t.Errorf("Broadcast(%q) = %v", bad, err)
		}
	}
}

func TestEVMDialAndUnavailable(t *testing.T) {
	for _, bad := range []string{"ws://127.0.0.1:8546", "127.0.0.1:8545", "http://"} {
		if _, err := DialEVM(bad); !errors.Is(err, ErrBadNode) {
			t.Errorf("DialEVM(%q) = %v", bad, err)
		}
	}
	// Nothing listens there: unavailable, and the password never shows.
	c, err := DialEVM("http://user:s3cretpw@127.0.0.1:" + itoa(freePort(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.Broadcast(ctx, "0x01")
	if !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), "s3cretpw") {
		t.Fatalf("Broadcast to a closed port = %v", err)
	}
}

func TestAlreadyKnown(t *testing.T) {
	for _, m := range []string{"already known", "Known transaction: 0xab", "Transaction with the same hash was already imported.", "ALREADY_EXISTS: already known"} {
		if !alreadyKnown(m) {
			t.Errorf("%q not recognised", m)
		}
	}
	if alreadyKnown("insufficient funds for gas * price + value") {
		t.Error("insufficient funds taken for already known")
	}
}
