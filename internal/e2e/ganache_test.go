package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"math/big"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/evm"
)

// ganacheMnemonic funds ganache's accounts (m/44'/60'/0'/0/i, 1000 ETH each).
const ganacheMnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

// ganacheFunder is the key of ganache's account 0: ganache funds the
// mainnet-path accounts of its mnemonic.
func ganacheFunder(t testing.TB) *ecdsa.PrivateKey {
	seed, err := chain.Seed(ganacheMnemonic)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := evm.ETH.PrivateKey(seed, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	return ecdsaKey(t, pk)
}

// startGanache runs the ganache found through CUSTOS_TEST_GANACHE on a free
// loopback port with the dev chain's id and returns its URL once it answers
// eth_chainId. It mines a block every second unless mining gives other
// --miner flags.
func startGanache(t *testing.T, mining ...string) string {
	t.Helper()
	return startGanacheChain(t, chainID, mining...)
}

// startGanacheChain is startGanache with the given chain id.
func startGanacheChain(t *testing.T, id uint64, mining ...string) string {
	t.Helper()
	bin := requireTool(t, "CUSTOS_TEST_GANACHE", "ganache (npm ganache@7.9.2)")
	if len(mining) == 0 {
		// Blocks every second from the pool, as a real chain builds them.
		// Ganache's instamine modes handle a transaction that arrives ahead
		// of its predecessor's nonce badly: eager mode holds the call open,
		// strict mode never mines it.
		mining = []string{"--miner.blockTime", "1"}
	}
	var out bytes.Buffer
	for attempt := 0; attempt < 3; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		out.Reset()
		cmd := exec.Command(bin, append([]string{"--server.host", "127.0.0.1", "--server.port", strconv.Itoa(port),
			"--wallet.mnemonic", ganacheMnemonic, "--chain.chainId", strconv.FormatUint(id, 10), "--logging.quiet"}, mining...)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting ganache: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		url := "http://127.0.0.1:" + strconv.Itoa(port)
		if waitNode(url, id, exited, 60*time.Second) {
			t.Cleanup(stop)
			return url
		}
		stop()
	}
	t.Fatalf("ganache did not start: %s", out.String())
	return ""
}

// waitNode polls eth_chainId until the node answers want, the process
// exits, or the time is up.
func waitNode(url string, want uint64, exited <-chan struct{}, within time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		if c, err := ethclient.DialContext(ctx, url); err == nil {
			id, err := c.ChainID(ctx)
			c.Close()
			if err == nil && id.Uint64() == want {
				return true
			}
		}
		select {
		case <-exited:
			return false
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestEndToEndGanache is the end-to-end flow against a separate node process:
// ganache, started here from the path scripts/test gives.
func TestEndToEndGanache(t *testing.T) {
	url := startGanache(t)
	s := newStack(t, url)
	funder := ganacheFunder(t)
	if b := s.balance(s.addrOf(funder)); b.Cmp(new(big.Int).Mul(big.NewInt(100), big.NewInt(1e18))) < 0 {
		t.Fatalf("ganache account 0 holds %s wei", b)
	}
	runFlow(t, s, funder)
}
