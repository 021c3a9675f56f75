package approver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/strictjson"
)

// Rules decide how many distinct operators must approve a transaction
// (docs/approver.md). The first rule that matches a request applies; when
// none does, Default does.
type Rules struct {
	// Groups name sets of operators a rule can require approvals from.
	Groups map[string][]string `json:"groups,omitempty"`
	Rules  []Rule              `json:"rules,omitempty"`
	// Default applies when no rule matches; its zero value is one approval
	// by any operator.
	Default *Requirement `json:"default,omitempty"`
	// Tokens name tokens for the console, which shows their amounts in the
	// token's units. They change no rule: bounds count the smallest unit.
	Tokens []Token `json:"tokens,omitempty"`
}

// Token is a token as the daemon's intents name it, with what a person
// reads: its symbol and decimals (one token is 10^Decimals of the smallest
// unit the intent counts).
type Token struct {
	Chain    string `json:"chain"`
	Asset    string `json:"asset"`
	Symbol   string `json:"symbol"`
	Decimals int    `json:"decimals"`
}

// Rule is one entry of a rules file.
type Rule struct {
	Name string `json:"name"`
	// Chain and Network, when set, must equal the request's.
	Chain   string `json:"chain,omitempty"`
	Network string `json:"network,omitempty"`
	// Wallets, when set, match a request naming any of these signature ids.
	Wallets []string `json:"wallets,omitempty"`
	// Asset is the asset the amount conditions count ("" the native coin).
	Asset string `json:"asset,omitempty"`
	// Below and AtLeast bound the sum of the transfers leaving the wallet
	// (change excluded), in the asset's smallest unit: below is exclusive,
	// atLeast inclusive. A request moving any other asset than Asset, or
	// calling a contract while AllowCalls is false, does not match a rule
	// with an amount condition: an amount says nothing about what a call does.
	Below      string `json:"below,omitempty"`
	AtLeast    string `json:"atLeast,omitempty"`
	AllowCalls bool   `json:"allowCalls,omitempty"`
	Requirement
}

// Requirement is what a matching rule asks for.
type Requirement struct {
	// Approvals is how many distinct operators must approve; 0 approves at
	// once (auto-approve). Absent in a rule or the default it is 1.
	Approvals *int `json:"approvals,omitempty"`
	// Group, when set, names the only operators who may decide.
	Group string `json:"group,omitempty"`
}

// Need is a Requirement resolved for one request.
type Need struct {
	Rule      string
	Approvals int
	Group     string
	// Members are the group's operators; nil when any operator may decide.
	Members []string
}

// Eligible reports whether operator may decide under n.
func (n Need) Eligible(operator string) bool {
	return n.Group == "" || slices.Contains(n.Members, operator)
}

// ReadRules reads a rules file: JSON without duplicate or case-variant keys
// or unknown fields, checked by Validate.
func ReadRules(r io.Reader) (*Rules, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRules, err)
	}
	if err := strictjson.Check(b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRules, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var rs Rules
	if err := dec.Decode(&rs); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRules, err)
	}
	return &rs, rs.Validate()
}

// Validate reports the first invalid rule and field.
func (rs *Rules) Validate() error {
	for g, members := range rs.Groups {
		if len(members) == 0 {
			return fmt.Errorf("%w: group %q has no operators", ErrRules, g)
		}
	}
	check := func(where string, q Requirement) error {
		if q.Approvals != nil && *q.Approvals < 0 {
			return fmt.Errorf("%w: %s: approvals must not be negative", ErrRules, where)
		}
		if q.Group != "" {
			members, ok := rs.Groups[q.Group]
			if !ok {
				return fmt.Errorf("%w: %s: unknown group %q", ErrRules, where, q.Group)
			}
			if q.Approvals != nil && *q.Approvals > len(members) {
				return fmt.Errorf("%w: %s: %d approvals from group %q of %d operators can never be reached", ErrRules, where, *q.Approvals, q.Group, len(members))
			}
		}
		return nil
	}
	for i, r := range rs.Rules {
		where := fmt.Sprintf("rule %d", i+1)
		if r.Name == "" {
			return fmt.Errorf("%w: %s: name is required", ErrRules, where)
		}
		where = fmt.Sprintf("rule %d (%s)", i+1, r.Name)
		for field, v := range map[string]string{"below": r.Below, "atLeast": r.AtLeast} {
			if v == "" {
				continue
			}
			if _, ok := amount(v); !ok {
				return fmt.Errorf("%w: %s: %s must be a non-negative integer in the asset's smallest unit, got %q", ErrRules, where, field, v)
			}
		}
		if r.Network != "" && r.Network != "mainnet" && r.Network != "testnet" {
			return fmt.Errorf("%w: %s: network must be mainnet or testnet", ErrRules, where)
		}
		if err := check(where, r.Requirement); err != nil {
			return err
		}
	}
	seen := map[[2]string]bool{}
	for i, tk := range rs.Tokens {
		where := fmt.Sprintf("token %d", i+1)
		switch {
		case tk.Chain == "" || tk.Asset == "" || tk.Symbol == "":
			return fmt.Errorf("%w: %s: chain, asset and symbol are required", ErrRules, where)
		case tk.Decimals < 0 || tk.Decimals > 77:
			// 78 digits hold any 256-bit amount.
			return fmt.Errorf("%w: %s: decimals must be between 0 and 77", ErrRules, where)
		}
		k := [2]string{strings.ToUpper(tk.Chain), assetKey(tk.Asset)}
		if seen[k] {
			return fmt.Errorf("%w: %s: %s %s named twice", ErrRules, where, tk.Chain, tk.Asset)
		}
		seen[k] = true
	}
	if rs.Default != nil {
		return check("default", *rs.Default)
	}
	return nil
}

// Token finds the token asset of chain names, as the intent spells it.
func (rs *Rules) Token(chain, asset string) (Token, bool) {
	for _, tk := range rs.Tokens {
		if strings.EqualFold(tk.Chain, chain) && sameAsset(tk.Asset, asset) {
			return tk, true
		}
	}
	return Token{}, false
}

// amount parses a non-negative decimal integer.
func amount(s string) (*big.Int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return nil, false
	}
	n, ok := new(big.Int).SetString(s, 10)
	return n, ok
}

// Need returns what req needs: the first matching rule's requirement, else
// the default's.
func (rs *Rules) Need(req approval.Request) Need {
	for _, r := range rs.Rules {
		if r.matches(req) {
			return rs.resolve(r.Name, r.Requirement)
		}
	}
	if rs.Default != nil {
		return rs.resolve("default", *rs.Default)
	}
	return rs.resolve("default", Requirement{})
}

func (rs *Rules) resolve(name string, q Requirement) Need {
	n := Need{Rule: name, Approvals: 1, Group: q.Group}
	if q.Approvals != nil {
		n.Approvals = *q.Approvals
	}
	if q.Group != "" {
		n.Members = slices.Clone(rs.Groups[q.Group])
	}
	return n
}

func (r Rule) matches(req approval.Request) bool {
	switch {
	case r.Chain != "" && !strings.EqualFold(r.Chain, req.Chain):
		return false
	case r.Network != "" && r.Network != req.Network:
		return false
	case len(r.Wallets) > 0 && !slices.ContainsFunc(req.SignatureIDs, func(id string) bool { return slices.Contains(r.Wallets, id) }):
		return false
	}
	if r.Below == "" && r.AtLeast == "" {
		return true
	}
	if len(req.Intent.Calls) > 0 && !r.AllowCalls {
		return false
	}
	sum := new(big.Int)
	for _, t := range req.Intent.Transfers {
		if t.Change {
			continue
		}
		if !sameAsset(t.Asset, r.Asset) {
			return false
		}
		v, ok := amount(t.Amount)
		if !ok {
			// An amount the rules cannot read never matches a bound.
			return false
		}
		sum.Add(sum, v)
	}
	if r.Below != "" {
		if b, _ := amount(r.Below); sum.Cmp(b) >= 0 {
			return false
		}
	}
	if r.AtLeast != "" {
		if a, _ := amount(r.AtLeast); sum.Cmp(a) < 0 {
			return false
		}
	}
	return true
}

// sameAsset compares an asset named in the rules file with one as an
// intent spells it. A 0x-prefixed 20-byte hex address (an EVM token's
// contract) is the same address whatever the case of its letters, which
// EIP-55 uses for a checksum, so a rule copied from an explorer matches the
// lowercase form the intent carries; every other name (base58 addresses,
// codes with issuers) is compared exactly, as its case is significant.
func sameAsset(a, b string) bool {
	return a == b || isHexAddress(a) && isHexAddress(b) && strings.EqualFold(a, b)
}

// assetKey is the form of an asset under which sameAsset's equal names are
// one.
func assetKey(a string) string {
	if isHexAddress(a) {
		return strings.ToLower(a)
	}
	return a
}

func isHexAddress(a string) bool {
	if len(a) != 42 || a[0] != '0' || (a[1] != 'x' && a[1] != 'X') {
		return false
	}
	for _, c := range a[2:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
