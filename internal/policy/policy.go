// Package policy is the signer's signing policy: an ordered list of rules,
// read from a versioned JSON file (docs/policy.md, docs/policy.schema.json),
// evaluated on what a transaction does (its intent, decoded from the bytes
// the daemon will sign) before anyone is asked to approve it and before any
// key is used.
//
// The first rule whose match fits the transaction decides: a deny rule
// refuses it, an allow rule allows it when every one of its limits holds and
// refuses it, naming the limit, when one does not. A transaction no rule
// matches is refused. Velocity limits (volume and count over a rolling 24
// hours) are kept by a Meter, which the daemon persists in its ledger.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os"
	"reflect"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/custoskms/custos/intent"
)

// Version is the policy file format this build reads.
const Version = 1

// File is a policy file as written. Parse turns it into a Policy.
type File struct {
	Version int    `json:"version"`
	Rules   []Rule `json:"rules"`
}

// Rule is one entry of the ordered rule list.
type Rule struct {
	// Name identifies the rule in decisions and keys its velocity: renaming
	// a rule starts its daily counts afresh.
	Name   string  `json:"name"`
	Match  Match   `json:"match"`
	Action string  `json:"action"`
	Limits *Limits `json:"limits,omitempty"`
}

// Match selects the transactions a rule applies to; an empty match applies
// to every transaction.
type Match struct {
	// Chains are currency codes (ETH, BTC…); any when empty.
	Chains []string `json:"chains,omitempty"`
	// Network is "mainnet" or "testnet"; any when absent.
	Network *string `json:"network,omitempty"`
	// Wallets are signature ids: every wallet the transaction names must be
	// one of them.
	Wallets []string `json:"wallets,omitempty"`
	// Signers are addresses: every signer of the intent must be one of them
	// (a transaction whose signers are not known does not match).
	Signers []string `json:"signers,omitempty"`
}

// Limits are what an allow rule requires of a transaction.
type Limits struct {
	// MaxAmount is the most one transaction may move, per asset ("" is the
	// native coin), in the asset's smallest unit. An asset not named here is
	// refused when MaxAmount is given.
	MaxAmount map[string]string `json:"maxAmount,omitempty"`
	// Daily bounds what the rule allows over any 24 hours.
	Daily *Daily `json:"daily,omitempty"`
	// To restricts the recipients (change outputs excepted).
	To *Destinations `json:"to,omitempty"`
	// Fee caps the transaction's fee figures.
	Fee *FeeLimits `json:"fee,omitempty"`
	// Indexes bounds the derivation indexes of the keys that sign.
	Indexes *IndexRange `json:"indexes,omitempty"`
	// Calls, when given, lists the contract calls allowed; an empty list
	// allows none. When absent, calls are not restricted.
	Calls *[]CallRule `json:"calls,omitempty"`
}

// Daily is a velocity limit over a rolling 24 hours.
type Daily struct {
	// Count is the most transactions the rule allows.
	Count *uint64 `json:"count,omitempty"`
	// Volume is the most the rule's transactions may move, per asset; an
	// asset not named is refused when Volume is given.
	Volume map[string]string `json:"volume,omitempty"`
}

// Destinations are recipient lists.
type Destinations struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// FeeLimits cap the intent's fee figures, in the native coin's smallest unit.
type FeeLimits struct {
	// Max caps the most the transaction can pay in fees.
	Max *string `json:"max,omitempty"`
	// GasPrice caps an EVM gas price or max fee per gas.
	GasPrice *string `json:"gasPrice,omitempty"`
	// MaxPriorityFeePerGas caps an EIP-1559 tip.
	MaxPriorityFeePerGas *string `json:"maxPriorityFeePerGas,omitempty"`
}

// IndexRange is an inclusive range of derivation indexes.
type IndexRange struct {
	Min *uint32 `json:"min"`
	Max *uint32 `json:"max"`
}

// CallRule allows calls to a contract, a method, or a method of a contract.
type CallRule struct {
	// Contract is the called address (a SOL program id); any when empty.
	Contract string `json:"contract,omitempty"`
	// Method is an EVM selector ("0xa9059cbb") or the chain's method name;
	// any when empty.
	Method string `json:"method,omitempty"`
}

// feeFields are the fee limits, each with the intent's figure it caps.
var feeFields = []struct {
	name   string
	limit  func(*FeeLimits) *string
	figure func(*intent.Fee) string
}{
	{"max", func(f *FeeLimits) *string { return f.Max }, func(f *intent.Fee) string { return f.Max }},
	{"gasPrice", func(f *FeeLimits) *string { return f.GasPrice }, func(f *intent.Fee) string { return f.GasPrice }},
	{"maxPriorityFeePerGas", func(f *FeeLimits) *string { return f.MaxPriorityFeePerGas },
		func(f *intent.Fee) string { return f.MaxPriorityFeePerGas }},
}

// Action values.
const (
	Allow = "allow"
	Deny  = "deny"
)

// Policy is a parsed, checked policy file.
type Policy struct {
	rules []rule
}

// rule is a Rule with its figures parsed.
type rule struct {
	Rule
	index     int
	maxAmount map[string]*big.Int
	count     *uint64
	volume    map[string]*big.Int
	fee       map[string]*big.Int // by FeeLimits' JSON names
	allowTo   map[string]bool
	denyTo    map[string]bool
	wallets   map[string]bool
	signers   map[string]bool
	chains    map[string]bool
}

var (
	amountRE   = regexp.MustCompile(`^(0|[1-9][0-9]{0,77})$`)
	chainRE    = regexp.MustCompile(`^[A-Z]{2,6}$`)
	selectorRE = regexp.MustCompile(`^0x[0-9a-fA-F]{8}$`)
)

// Load reads and parses the policy file at path.
func Load(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return Parse(bytes.NewReader(b))
}

// Parse reads a policy file strictly: unknown fields, keys given twice or in
// another case, figures that are not decimal integers and rules that could
// never be evaluated are refused with an error wrapping ErrInvalid.
func Parse(r io.Reader) (*Policy, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, maxFile)
	}
	if err := checkStrict(data, reflect.TypeFor[File]()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	p, err := compile(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return p, nil
}

// maxFile bounds a policy file: thousands of rules fit.
const maxFile = 4 << 20

func compile(f File) (*Policy, error) {
	if f.Version != Version {
		return nil, fmt.Errorf("version: %d is not supported (want %d)", f.Version, Version)
	}
	if f.Rules == nil {
		return nil, fmt.Errorf("rules: required")
	}
	p := &Policy{}
	names := map[string]bool{}
	for i, r := range f.Rules {
		at := fmt.Sprintf("rules[%d]", i)
		if r.Name == "" || utf8.RuneCountInString(r.Name) > 100 {
			return nil, fmt.Errorf("%s.name: required, at most 100 characters", at)
		}
		if names[r.Name] {
			return nil, fmt.Errorf("%s.name: %q names two rules", at, r.Name)
		}
		names[r.Name] = true
		c, err := compileRule(r, i)
		if err != nil {
			return nil, fmt.Errorf("%s (%s).%w", at, r.Name, err)
		}
		p.rules = append(p.rules, c)
	}
	return p, nil
}

func compileRule(r Rule, i int) (rule, error) {
	c := rule{Rule: r, index: i}
	switch r.Action {
	case Allow:
	case Deny:
		if r.Limits != nil {
			return c, fmt.Errorf("limits: a deny rule has none")
		}
	default:
		return c, fmt.Errorf("action: must be allow or deny")
	}
	m := r.Match
	for _, code := range m.Chains {
		if !chainRE.MatchString(code) {
			return c, fmt.Errorf("match.chains: %q is not a currency code", code)
		}
	}
	if m.Network != nil && *m.Network != "mainnet" && *m.Network != "testnet" {
		return c, fmt.Errorf("match.network: must be mainnet or testnet")
	}
	var err error
	if c.chains, err = keySet("match.chains", m.Chains, false); err != nil {
		return c, err
	}
	if c.wallets, err = keySet("match.wallets", m.Wallets, false); err != nil {
		return c, err
	}
	if c.signers, err = keySet("match.signers", m.Signers, true); err != nil {
		return c, err
	}
	l := r.Limits
	if l == nil {
		return c, nil
	}
	if c.maxAmount, err = amounts("limits.maxAmount", l.MaxAmount); err != nil {
		return c, err
	}
	if l.Daily != nil {
		if l.Daily.Count == nil && l.Daily.Volume == nil {
			return c, fmt.Errorf("limits.daily: give count, volume or both")
		}
		c.count = l.Daily.Count
		if c.volume, err = amounts("limits.daily.volume", l.Daily.Volume); err != nil {
			return c, err
		}
	}
	if l.To != nil {
		if c.allowTo, err = keySet("limits.to.allow", l.To.Allow, true); err != nil {
			return c, err
		}
		if c.denyTo, err = keySet("limits.to.deny", l.To.Deny, true); err != nil {
			return c, err
		}
	}
	if l.Fee != nil {
		c.fee = map[string]*big.Int{}
		for _, f := range feeFields {
			v := f.limit(l.Fee)
			if v == nil {
				continue
			}
			n, err := amount(*v)
			if err != nil {
				return c, fmt.Errorf("limits.fee.%s: %w", f.name, err)
			}
			c.fee[f.name] = n
		}
	}
	if ix := l.Indexes; ix != nil {
		if ix.Min == nil || ix.Max == nil || *ix.Min > *ix.Max {
			return c, fmt.Errorf("limits.indexes: give min and max, min ≤ max")
		}
	}
	if l.Calls != nil {
		for j, cr := range *l.Calls {
			if cr.Contract == "" && cr.Method == "" {
				return c, fmt.Errorf("limits.calls[%d]: give contract, method or both", j)
			}
			if strings.HasPrefix(cr.Method, "0x") && !selectorRE.MatchString(cr.Method) {
				return c, fmt.Errorf("limits.calls[%d].method: an EVM selector is 0x and 8 hex digits", j)
			}
		}
	}
	return c, nil
}

// amount parses a decimal integer figure.
func amount(s string) (*big.Int, error) {
	if !amountRE.MatchString(s) {
		return nil, fmt.Errorf("%q is not a decimal integer of at most 78 digits", s)
	}
	n, _ := new(big.Int).SetString(s, 10)
	return n, nil
}

// amounts parses a per-asset map; two asset spellings of one address are refused.
func amounts(field string, m map[string]string) (map[string]*big.Int, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]*big.Int, len(m))
	for asset, v := range m {
		n, err := amount(v)
		if err != nil {
			return nil, fmt.Errorf("%s[%q]: %w", field, asset, err)
		}
		k := addrKey(asset)
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s: asset %q is given twice", field, asset)
		}
		out[k] = n
	}
	return out, nil
}

// keySet is a list as a set; addresses are compared as addrKey spells them.
func keySet(field string, xs []string, addresses bool) (map[string]bool, error) {
	if xs == nil {
		return nil, nil
	}
	out := make(map[string]bool, len(xs))
	for _, x := range xs {
		if x == "" {
			return nil, fmt.Errorf("%s: empty entry", field)
		}
		if addresses {
			x = addrKey(x)
		}
		out[x] = true
	}
	return out, nil
}

// addrKey is how an address or asset is compared: EVM-style 0x hex is
// case-insensitive (the case is only a checksum), every other spelling is
// compared exactly (base58 is case-sensitive).
func addrKey(s string) string {
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		return "0x" + strings.ToLower(s[2:])
	}
	return s
}

// Summary is what `custos policy check` prints of a valid policy.
type Summary struct {
	Version int           `json:"version"`
	Rules   []RuleSummary `json:"rules"`
}

// RuleSummary names one rule and what it checks.
type RuleSummary struct {
	Name   string   `json:"name"`
	Action string   `json:"action"`
	Limits []string `json:"limits,omitempty"`
}

// Summary describes p.
func (p *Policy) Summary() Summary {
	s := Summary{Version: Version, Rules: []RuleSummary{}}
	for _, r := range p.rules {
		rs := RuleSummary{Name: r.Name, Action: r.Action}
		if l := r.Limits; l != nil {
			for _, k := range []struct {
				on   bool
				name string
			}{{l.MaxAmount != nil, "maxAmount"}, {l.Daily != nil, "daily"}, {l.To != nil, "to"},
				{l.Fee != nil, "fee"}, {l.Indexes != nil, "indexes"}, {l.Calls != nil, "calls"}} {
				if k.on {
					rs.Limits = append(rs.Limits, k.name)
				}
			}
		}
		s.Rules = append(s.Rules, rs)
	}
	return s
}

// Chains lists the currency codes the rules' matches name, so that a caller
// holding the chain table can refuse a code no chain has.
func (p *Policy) Chains() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range p.rules {
		for _, c := range r.Match.Chains {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}
