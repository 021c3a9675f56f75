package broadcast

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type fakeClient struct{ url string }

func (f *fakeClient) Broadcast(context.Context, string) (string, error) { return "tx-" + f.url, nil }

func TestParseNode(t *testing.T) {
	good := []struct {
		in   string
		want NodeSpec
	}{
		{"ETH=http://127.0.0.1:8545", NodeSpec{"ETH", false, "http://127.0.0.1:8545"}},
		{"eth:testnet=https://sepolia.example/rpc", NodeSpec{"ETH", true, "https://sepolia.example/rpc"}},
		{"BTC:mainnet=http://u:p@127.0.0.1:8332", NodeSpec{"BTC", false, "http://u:p@127.0.0.1:8332"}},
	}
	for _, g := range good {
		got, err := ParseNode(g.in)
		if err != nil || got != g.want {
			t.Errorf("ParseNode(%q) = %+v, %v; want %+v", g.in, got, err, g.want)
		}
	}
	for _, bad := range []string{"", "ETH", "=http://x", "ETH=", "ETH:devnet=http://x", "ETH=not a url", "BTC=/relative/secretpw"} {
		_, err := ParseNode(bad)
		if !errors.Is(err, ErrBadNode) {
			t.Errorf("ParseNode(%q) = %v, want ErrBadNode", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "secretpw") {
			t.Errorf("error leaks the URL: %v", err)
		}
	}
}

func TestNodesFromEnv(t *testing.T) {
	env := []string{"CUSTOS_NODE_ETH=http://a:8545", "CUSTOS_NODE_ETH_TESTNET=http://b:8545", "CUSTOS_NODE_BTC=", "OTHER=x"}
	got, err := NodesFromEnv(env, []string{"ETH", "BTC"})
	if err != nil {
		t.Fatal(err)
	}
	want := []NodeSpec{{"ETH", false, "http://a:8545"}, {"ETH", true, "http://b:8545"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("NodesFromEnv = %+v", got)
	}
	if _, err := NodesFromEnv([]string{"CUSTOS_NODE_ETH=nope"}, []string{"ETH"}); !errors.Is(err, ErrBadNode) {
		t.Fatalf("bad env URL: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"http://user:hunter2@127.0.0.1:18443":       "http://xxxxx@127.0.0.1:18443",
		"https://node.example/v1/rpc?apikey=s3cr3t": "https://node.example/v1/rpc?xxxxx",
		"http://127.0.0.1:8545":                     "http://127.0.0.1:8545",
	}
	for in, want := range cases {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	s := NodeSpec{Chain: "BTC", Testnet: true, URL: "http://user:hunter2@h:1"}.String()
	if strings.Contains(s, "hunter2") || !strings.Contains(s, "BTC:testnet") {
		t.Fatalf("NodeSpec.String() = %q", s)
	}
}

func TestDialAndLookup(t *testing.T) {
	dialers := func(code string) (Dialer, bool) {
		d, ok := map[string]Dialer{
			"XTEST": func(u string) (Client, error) { return &fakeClient{u}, nil },
			"XFAIL": func(u string) (Client, error) { return nil, errors.New("cannot use " + u) },
		}[code]
		return d, ok
	}

	nodes, err := Dial([]NodeSpec{{"XTEST", false, "http://m"}, {"XTEST", true, "http://t1"}, {"XTEST", true, "http://t2"}}, dialers)
	if err != nil {
		t.Fatal(err)
	}
	c, err := nodes.Client("xtest", true)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := c.Broadcast(context.Background(), "00"); id != "tx-http://t2" {
		t.Fatalf("later spec should win, got %q", id)
	}
	if got := nodes.Configured(); len(got) != 2 || got[0] != "XTEST:mainnet" || got[1] != "XTEST:testnet" {
		t.Fatalf("Configured = %v", got)
	}
	_, err = nodes.Client("ETH", false)
	var nn *NoNodeError
	if !errors.Is(err, ErrNoNode) || !errors.As(err, &nn) || nn.Chain != "ETH" || nn.Network != "mainnet" {
		t.Fatalf("missing node: %v", err)
	}
	if !strings.Contains(err.Error(), "CUSTOS_NODE_ETH") {
		t.Fatalf("error should say how to configure: %v", err)
	}
	if _, err := Dial([]NodeSpec{{"NOPE", false, "http://x"}}, dialers); !errors.Is(err, ErrNoDialer) {
		t.Fatalf("chain without dialer: %v", err)
	}
	_, err = Dial([]NodeSpec{{"XFAIL", false, "http://u:hunter2@x"}}, dialers)
	if !errors.Is(err, ErrBadNode) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("dialer error: %v", err)
	}
	var nilNodes *Nodes
	if _, err := nilNodes.Client("ETH", false); !errors.Is(err, ErrNoNode) {
		t.Fatalf("nil Nodes: %v", err)
	}
}

// A failing constructor gives a nil Client, not a Client holding a nil
// pointer, which a caller's nil check would take for a client.
func TestDialerOfFailureIsNil(t *testing.T) {
	c, err := DialerOf(DialEVM)("ws://127.0.0.1:8546")
	if c != nil || !errors.Is(err, ErrBadNode) {
		t.Fatalf("DialerOf(DialEVM) of a bad URL = %#v, %v", c, err)
	}
	c, err = DialerOf(DialEVM)("http://127.0.0.1:1")
	if _, ok := c.(*EVMClient); !ok || err != nil {
		t.Fatalf("DialerOf(DialEVM) = %#v, %v", c, err)
	}
}
