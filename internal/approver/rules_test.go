package approver

import (
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/intent"
)

func TestRulesRefuseInvalidFiles(t *testing.T) {
	for name, file := range map[string]string{
		"unknown field":        `{"rules":[{"name":"a","bellow":"1"}]}`,
		"duplicate key":        `{"rules":[{"name":"a","below":"1","Below":"9"}]}`,
		"no name":              `{"rules":[{"below":"1"}]}`,
		"decimal amount":       `{"rules":[{"name":"a","below":"1.5"}]}`,
		"negative amount":      `{"rules":[{"name":"a","atLeast":"-1"}]}`,
		"negative approvals":   `{"rules":[{"name":"a","approvals":-1}]}`,
		"unknown group":        `{"rules":[{"name":"a","group":"g"}]}`,
		"unreachable quorum":   `{"groups":{"g":["x"]},"rules":[{"name":"a","group":"g","approvals":2}]}`,
		"empty group":          `{"groups":{"g":[]}}`,
		"bad network":          `{"rules":[{"name":"a","network":"main"}]}`,
		"bad default":          `{"default":{"group":"none"}}`,
		"token without symbol": `{"tokens":[{"chain":"ETH","asset":"0xT","decimals":6}]}`,
		"negative decimals":    `{"tokens":[{"chain":"ETH","asset":"0xT","symbol":"T","decimals":-1}]}`,
		"token twice":          `{"tokens":[{"chain":"ETH","asset":"0xT","symbol":"T","decimals":6},{"chain":"eth","asset":"0xT","symbol":"U","decimals":6}]}`,
	} {
		if _, err := ReadRules(strings.NewReader(file)); !errors.Is(err, ErrRules) {
			t.Errorf("%s: %v, want ErrRules", name, err)
		}
	}
}

func req(transfers []intent.Transfer, calls ...intent.Call) approval.Request {
	return approval.Request{Chain: "BTC", Network: "testnet", SignatureIDs: []string{"w1"},
		Intent: intent.Intent{Chain: "BTC", Network: "testnet", Transfers: transfers, Calls: calls}}
}

func TestAmountConditions(t *testing.T) {
	rs, err := ReadRules(strings.NewReader(`{"rules":[
		{"name":"small","below":"100","approvals":0},
		{"name":"small token","asset":"0xT","below":"100","allowCalls":true,"approvals":0}
	],"default":{"approvals":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		r    approval.Request
		rule string
	}{
		"sum below":           {req([]intent.Transfer{{To: "a", Amount: "60"}, {To: "b", Amount: "39"}}), "small"},
		"sum at the bound":    {req([]intent.Transfer{{To: "a", Amount: "60"}, {To: "b", Amount: "40"}}), "default"},
		"change not counted":  {req([]intent.Transfer{{To: "a", Amount: "60"}, {To: "me", Amount: "9000", Change: true}}), "small"},
		"another asset":       {req([]intent.Transfer{{To: "a", Amount: "1", Asset: "0xU"}}), "default"},
		"a call":              {req([]intent.Transfer{{To: "a", Amount: "1"}}, intent.Call{Contract: "0xC"}), "default"},
		"token with its call": {req([]intent.Transfer{{To: "a", Amount: "1", Asset: "0xT"}}, intent.Call{Contract: "0xT"}), "small token"},
		"unreadable amount":   {req([]intent.Transfer{{To: "a", Amount: "0x10"}}), "default"},
	} {
		if n := rs.Need(tc.r); n.Rule != tc.rule {
			t.Errorf("%s: rule %s, want %s", name, n.Rule, tc.rule)
		}
	}
	if n := (&Rules{}).Need(req(nil)); n.Approvals != 1 || n.Rule != "default" {
		t.Errorf("no rules: %+v, want one approval", n)
	}
}

func TestTally(t *testing.T) {
	n := Need{Rule: "r", Approvals: 2, Group: "g", Members: []string{"a", "b", "c"}}
	dec := func(op string, d approval.Decision) Decision {
		return Decision{Operator: op, Decision: d, Reason: "why"}
	}
	for name, tc := range map[string]struct {
		ds   []Decision
		want approval.Decision
	}{
		"none":                   {nil, approval.Pending},
		"one":                    {[]Decision{dec("a", approval.Approve)}, approval.Pending},
		"one counted twice":      {[]Decision{dec("a", approval.Approve), dec("a", approval.Approve)}, approval.Pending},
		"outsider not counted":   {[]Decision{dec("a", approval.Approve), dec("x", approval.Approve)}, approval.Pending},
		"two":                    {[]Decision{dec("a", approval.Approve), dec("b", approval.Approve)}, approval.Approve},
		"a refusal wins":         {[]Decision{dec("a", approval.Approve), dec("c", approval.Refuse)}, approval.Refuse},
		"outsider cannot refuse": {[]Decision{dec("x", approval.Refuse)}, approval.Pending},
	} {
		if got, _ := Tally(n, tc.ds); got != tc.want {
			t.Errorf("%s: %s, want %s", name, got, tc.want)
		}
	}
}

// A token's contract copied with its EIP-55 checksum (mixed case) matches
// the lowercase address an intent carries, in a rule and in the token list;
// names whose case is significant (base58) match only exactly.
func TestAssetNamesCompared(t *testing.T) {
	const checksummed = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
	rs, err := ReadRules(strings.NewReader(`{"rules":[
		{"name":"usdc","asset":"` + checksummed + `","below":"100","allowCalls":true,"approvals":0},
		{"name":"trc20","asset":"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t","below":"100","allowCalls":true,"approvals":0}
	],"tokens":[{"chain":"ETH","asset":"` + checksummed + `","symbol":"USDC","decimals":6}],
	"default":{"approvals":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(checksummed)
	for name, tc := range map[string]struct {
		asset, rule string
	}{
		"lowercase contract":   {lower, "usdc"},
		"checksummed contract": {checksummed, "usdc"},
		"another contract":     {"0xdac17f958d2ee523a2206206994597c13d831ec7", "default"},
		"base58 exact":         {"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "trc20"},
		"base58 other case":    {"tr7nhqjekqxgtci8q8zy4pl8otszgjlj6t", "default"},
	} {
		r := req([]intent.Transfer{{To: "a", Amount: "1", Asset: tc.asset}}, intent.Call{Contract: tc.asset})
		if n := rs.Need(r); n.Rule != tc.rule {
			t.Errorf("%s: rule %s, want %s", name, n.Rule, tc.rule)
		}
	}
	if tk, ok := rs.Token("ETH", lower); !ok || tk.Symbol != "USDC" {
		t.Errorf("token by its lowercase contract: %+v %v", tk, ok)
	}
	if _, err := ReadRules(strings.NewReader(`{"tokens":[{"chain":"ETH","asset":"` + checksummed + `","symbol":"A","decimals":6},
		{"chain":"ETH","asset":"` + lower + `","symbol":"B","decimals":6}]}`)); !errors.Is(err, ErrRules) {
		t.Errorf("one contract named twice in two cases: %v, want ErrRules", err)
	}
}
