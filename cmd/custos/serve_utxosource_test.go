package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/utxo"
)

func TestUTXOSourceFlagsRefuseBadSettings(t *testing.T) {
	for _, c := range []struct {
		flag, env, err string
	}{
		{flag: "NOPE=esplora:https://x/api", err: "NOPE"},
		{flag: "ETH=esplora:https://x/api", err: "not a UTXO chain"},
		{flag: "BTC=esplora:ftp://x", err: "not an absolute http(s) URL"},
		{flag: "BTC=esplora:", err: "not an absolute http(s) URL"},
		{flag: "BTC=electrum:tcp://x", err: "node or esplora:URL"},
		{flag: "BTC", err: "want CODE=node"},
		{flag: "BTC:devnet=node", err: "want CODE=node"},
		{env: "CUSTOS_UTXO_SOURCE_LTC_TESTNET=esplora:not a url", err: "CUSTOS_UTXO_SOURCE_LTC_TESTNET"},
		{env: "CUSTOS_UTXO_SOURCE_XRP=node", err: "not a UTXO chain"},
	} {
		f := utxoSourceFlags{}
		if c.flag != "" {
			f = append(f, c.flag)
		}
		var env []string
		if c.env != "" {
			env = []string{c.env}
		}
		if _, err := f.sources(env); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q %q: err %v, want one containing %q", c.flag, c.env, err, c.err)
		}
	}
}

func TestUTXOSourceFlagsPointTheNodeClientAtEsplora(t *testing.T) {
	esplora := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"6":2}`) // every path: only /fee-estimates is asked
	}))
	defer esplora.Close()
	spec := func(chain string, testnet bool) broadcast.NodeSpec {
		return broadcast.NodeSpec{Chain: chain, Testnet: testnet, URL: "http://127.0.0.1:1"}
	}
	dial := func() *broadcast.Nodes {
		n, err := broadcast.Dial([]broadcast.NodeSpec{spec("BTC", false), spec("BTC", true), spec("LTC", false)}, chains.Dialer)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	rate := func(n *broadcast.Nodes, code string, testnet bool) (int64, error) {
		c, err := n.Client(code, testnet)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5e9)
		defer cancel()
		return c.(utxo.FeeRater).FeeRate(ctx, 6)
	}
	// The environment names BTC testnet and LTC; the flag takes LTC back
	// to its node and sets BTC mainnet.
	f := utxoSourceFlags{"btc=esplora:" + esplora.URL, "LTC=node"}
	sources, err := f.sources([]string{"CUSTOS_UTXO_SOURCE_BTC_TESTNET=esplora:" + esplora.URL, "CUSTOS_UTXO_SOURCE_LTC=esplora:" + esplora.URL, "OTHER=x"})
	if err != nil {
		t.Fatal(err)
	}
	nodes := dial()
	if err := applyUTXOSources(nodes, sources); err != nil {
		t.Fatal(err)
	}
	for _, testnet := range []bool{false, true} {
		if r, err := rate(nodes, "BTC", testnet); err != nil || r != 2000 {
			t.Errorf("BTC testnet=%v: rate %d, %v; want Esplora's 2 sat/vB", testnet, r, err)
		}
	}
	if _, err := rate(nodes, "LTC", false); err == nil {
		t.Error("LTC asked Esplora; --utxo-source LTC=node should leave it to its node (down here)")
	}
	// Esplora without the chain's node is refused at start-up.
	sources, err = utxoSourceFlags{"DOGE=esplora:" + esplora.URL}.sources(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := applyUTXOSources(dial(), sources); err == nil || !strings.Contains(err.Error(), "needs the chain's node") {
		t.Fatalf("Esplora for a chain without a node: %v", err)
	}
}
