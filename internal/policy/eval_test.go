package policy

import (
	"strings"
	"testing"

	"github.com/custoskms/custos/intent"
)

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// One intent per chain family, as the chains' decoders describe them.
const (
	evmFrom  = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"
	evmTo    = "0x6B175474E89094C44Da98b954EedeAC495271d0F"
	usdt     = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
	btcFrom  = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
	btcTo    = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
	xrpFrom  = "rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe"
	xrpTo    = "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"
	transfer = "0xa9059cbb"
)

// family is a chain family's transaction of amount to to, with a fee, from
// a key at index.
type family struct {
	name  string
	chain string
	in    func(amount, to string, fee string, index uint32) Input
}

var families = []family{
	{"EVM", "ETH", func(amount, to, fee string, index uint32) Input {
		return Input{Decoded: true, Wallets: []string{"w-eth"}, Indexes: []uint32{index}, Intent: intent.Intent{
			Chain: "ETH", Network: "mainnet", ChainID: "1", Signers: []string{evmFrom},
			Transfers: []intent.Transfer{{To: to, Amount: amount}},
			Fee:       &intent.Fee{Max: fee, GasPrice: fee, MaxPriorityFeePerGas: fee, GasLimit: "21000"}}}
	}},
	{"UTXO", "BTC", func(amount, to, fee string, index uint32) Input {
		return Input{Decoded: true, Wallets: []string{"w-btc"}, Indexes: []uint32{index}, Intent: intent.Intent{
			Chain: "BTC", Network: "mainnet", Signers: []string{btcFrom},
			// The change output moves nothing out of the wallet: never counted.
			Transfers: []intent.Transfer{{To: to, Amount: amount}, {To: btcFrom, Amount: "999999999999", Change: true}},
			Fee:       &intent.Fee{Max: fee}}}
	}},
	{"account", "XRP", func(amount, to, fee string, index uint32) Input {
		return Input{Decoded: true, Wallets: []string{"w-xrp"}, Indexes: []uint32{index}, Intent: intent.Intent{
			Chain: "XRP", Network: "mainnet", Signers: []string{xrpFrom},
			Transfers: []intent.Transfer{{To: to, Amount: amount}},
			Fee:       &intent.Fee{Max: fee}}}
	}},
}

func recipient(f family) string {
	return map[string]string{"ETH": evmTo, "BTC": btcTo, "XRP": xrpTo}[f.chain]
}

// Each limit, on each family: a transaction just inside it is allowed, one
// just outside is refused, naming the rule and the limit.
func TestLimitsJustInsideAndOutside(t *testing.T) {
	for _, f := range families {
		to := recipient(f)
		rule := func(limits string) *Policy {
			return mustParse(t, wrap(`{"name":"the-rule","match":{"chains":["`+f.chain+`"]},"action":"allow","limits":`+limits+`}`))
		}
		cases := []struct {
			kind            string
			limits          string
			inside, outside Input
			reason          string
		}{
			{"maxAmount", `{"maxAmount":{"":"1000"}}`, f.in("1000", to, "5", 0), f.in("1001", to, "5", 0),
				"maxAmount: 1001 of the native coin is above 1000"},
			{"daily.volume", `{"daily":{"volume":{"":"1000"}}}`, f.in("1000", to, "5", 0), f.in("1001", to, "5", 0),
				"daily.volume: 1001 of the native coin would make 1001 in 24 hours, above 1000"},
			{"to.allow", `{"to":{"allow":["` + to + `"]}}`, f.in("1", to, "5", 0), f.in("1", to+"x", "5", 0),
				"to: " + to + "x is not on the allow list"},
			{"to.deny", `{"to":{"deny":["` + to + `x"]}}`, f.in("1", to, "5", 0), f.in("1", to+"x", "5", 0),
				"to: " + to + "x is on the deny list"},
			{"fee.max", `{"fee":{"max":"5"}}`, f.in("1", to, "5", 0), f.in("1", to, "6", 0),
				"fee.max: 6 is above 5"},
			{"indexes", `{"indexes":{"min":2,"max":7}}`, f.in("1", to, "5", 7), f.in("1", to, "5", 8),
				"indexes: derivation index 8 is outside 2..7"},
			{"indexes-low", `{"indexes":{"min":2,"max":7}}`, f.in("1", to, "5", 2), f.in("1", to, "5", 1),
				"indexes: derivation index 1 is outside 2..7"},
		}
		if f.chain == "ETH" {
			cases = append(cases, []struct {
				kind            string
				limits          string
				inside, outside Input
				reason          string
			}{
				{"fee.gasPrice", `{"fee":{"gasPrice":"5"}}`, f.in("1", to, "5", 0), f.in("1", to, "6", 0), "fee.gasPrice: 6 is above 5"},
				{"fee.maxPriorityFeePerGas", `{"fee":{"maxPriorityFeePerGas":"5"}}`, f.in("1", to, "5", 0), f.in("1", to, "6", 0),
					"fee.maxPriorityFeePerGas: 6 is above 5"},
			}...)
		}
		for _, c := range cases {
			t.Run(f.name+"/"+c.kind, func(t *testing.T) {
				p := rule(c.limits)
				if d := p.Evaluate(c.inside); !d.Allow || d.Rule != "the-rule" || d.Index != 0 {
					t.Errorf("inside: %+v", d)
				}
				d := p.Evaluate(c.outside)
				if want := `policy: rule "the-rule": ` + c.reason; d.Allow || d.Rule != "the-rule" || d.Reason != want {
					t.Errorf("outside: %+v\nwant reason %s", d, want)
				}
			})
		}
	}
}

// Token amounts are limited per asset, and an asset a limit does not name
// is refused by it; contract calls are held to the listed ones.
func TestAssetsAndCalls(t *testing.T) {
	token := func(amount, contract, method string) Input {
		in := families[0].in("0", usdt, "1", 0)
		in.Intent.Transfers = []intent.Transfer{{To: evmTo, Amount: amount, Asset: contract}}
		in.Intent.Calls = []intent.Call{{Contract: contract, Method: method, Data: method + "00"}}
		return in
	}
	// The policy spells the token with its checksum case, the intent in lower case.
	p := mustParse(t, limits(`{"maxAmount":{"`+usdt+`":"5000000"},"calls":[{"contract":"`+usdt+`","method":"`+transfer+`"}]}`))
	lower := strings.ToLower(usdt)
	for _, c := range []struct {
		in     Input
		reason string
	}{
		{token("5000000", lower, transfer), ""},
		{token("5000001", lower, transfer), "maxAmount: 5000001 of " + lower + " is above 5000000"},
		{token("1", "0x1111111111111111111111111111111111111111", transfer), "maxAmount: asset 0x1111111111111111111111111111111111111111 is not allowed"},
		// approve(spender, amount) moves nothing, but it is not an allowed call.
		{token("0", lower, "0x095ea7b3"), "calls: 0x095ea7b3 on " + lower + " is not allowed"},
		{families[0].in("1", evmTo, "1", 0), "maxAmount: asset the native coin is not allowed"},
	} {
		d := p.Evaluate(c.in)
		if c.reason == "" {
			if !d.Allow {
				t.Errorf("%+v: refused: %s", c.in.Intent.Transfers, d.Reason)
			}
			continue
		}
		if want := `policy: rule "r": ` + c.reason; d.Allow || d.Reason != want {
			t.Errorf("%+v: %+v, want %s", c.in.Intent.Transfers, d, want)
		}
	}
	none := mustParse(t, limits(`{"calls":[]}`))
	if d := none.Evaluate(token("0", lower, transfer)); d.Allow {
		t.Error("an empty calls list allowed a call")
	}
	if d := none.Evaluate(families[2].in("1", xrpTo, "1", 0)); !d.Allow {
		t.Errorf("an empty calls list refused a plain payment: %s", d.Reason)
	}
}

// The first matching rule decides; no match, and an intent that could not be
// decoded, are refused.
func TestRuleOrderMatchAndDefaultDeny(t *testing.T) {
	p := mustParse(t, `{"version":1,"rules":[
		{"name":"frozen","match":{"wallets":["w-btc"]},"action":"deny"},
		{"name":"xrp-signer","match":{"chains":["XRP"],"signers":["`+xrpFrom+`"]},"action":"allow","limits":{"maxAmount":{"":"10"}}},
		{"name":"xrp-any","match":{"chains":["XRP"]},"action":"allow"},
		{"name":"eth-testnet","match":{"chains":["ETH"],"network":"testnet"},"action":"allow"}]}`)
	xrpOther := families[2].in("100", xrpTo, "1", 0)
	xrpOther.Intent.Signers = []string{xrpTo}
	for _, c := range []struct {
		in     Input
		allow  bool
		rule   string
		index  int
		reason string
	}{
		{families[1].in("1", btcTo, "1", 0), false, "frozen", 0, `policy: rule "frozen" denies`},
		{families[2].in("100", xrpTo, "1", 0), false, "xrp-signer", 1, `policy: rule "xrp-signer": maxAmount: 100 of the native coin is above 10`},
		{xrpOther, true, "xrp-any", 2, `policy: rule "xrp-any" allows`},
		{families[0].in("1", evmTo, "1", 0), false, "", -1, "policy: no rule matches (default deny)"},
		{Input{Intent: intent.Intent{Chain: "ETH", Network: "testnet"}}, false, "", -1,
			"policy: the transaction could not be decoded for the policy (the chain has no intent decoder)"},
	} {
		d := p.Evaluate(c.in)
		if d.Allow != c.allow || d.Rule != c.rule || d.Index != c.index || d.Reason != c.reason {
			t.Errorf("%s: %+v, want %v %q %d %q", c.in.Intent.Chain, d, c.allow, c.rule, c.index, c.reason)
		}
	}
	testnet := families[0].in("1", evmTo, "1", 0)
	testnet.Intent.Network = "testnet"
	if d := p.Evaluate(testnet); !d.Allow || d.Rule != "eth-testnet" {
		t.Errorf("ETH testnet: %+v", d)
	}
	// Several wallets: every one must be listed.
	both := families[1].in("1", btcTo, "1", 0)
	both.Wallets = append(both.Wallets, "w-other")
	if d := p.Evaluate(both); d.Rule == "frozen" {
		t.Errorf("a rule for one wallet matched a transaction of two: %+v", d)
	}
}

// A fee limit whose figure the transaction does not state refuses; a legacy
// EVM transaction (no tip) is bounded by its gas price.
func TestFeeNotStated(t *testing.T) {
	p := mustParse(t, limits(`{"fee":{"gasPrice":"10","maxPriorityFeePerGas":"2"}}`))
	btc := families[1].in("1", btcTo, "1", 0)
	if d := p.Evaluate(btc); d.Allow || !strings.Contains(d.Reason, "fee.gasPrice: the transaction does not state it") {
		t.Errorf("UTXO under a gas price limit: %+v", d)
	}
	legacy := families[0].in("1", evmTo, "10", 0)
	legacy.Intent.Fee.MaxPriorityFeePerGas = ""
	if d := p.Evaluate(legacy); !d.Allow {
		t.Errorf("legacy EVM: %+v", d)
	}
	noFee := families[2].in("1", xrpTo, "1", 0)
	noFee.Intent.Fee = nil
	if d := mustParse(t, limits(`{"fee":{"max":"10"}}`)).Evaluate(noFee); d.Allow {
		t.Errorf("no fee stated under fee.max: %+v", d)
	}
}
