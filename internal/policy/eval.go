package policy

import (
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/custoskms/custos/intent"
)

// Input is a transaction as the policy sees it: what the daemon decoded from
// the bytes it would sign, the wallets the transaction names and the
// derivation indexes of its keys.
type Input struct {
	Intent intent.Intent
	// Decoded reports that Intent was decoded from the transaction; a
	// transaction the chain cannot decode is refused by any policy.
	Decoded bool
	// Wallets are the signature ids the transaction names (hashes and
	// signatures[].id).
	Wallets []string
	// Indexes are the derivation indexes of the signing keys; empty for
	// private-key wallets.
	Indexes []uint32
}

// Decision is the policy's answer for one transaction.
type Decision struct {
	Allow bool `json:"allow"`
	// Rule is the deciding rule's name and Index its place in the list;
	// empty and -1 when no rule matched.
	Rule  string `json:"rule,omitempty"`
	Index int    `json:"index"`
	// Reason says why, naming the limit a refused transaction exceeds.
	Reason string `json:"reason"`
}

// Usage is what a rule's velocity has used in the current window.
type Usage struct {
	Count  uint64
	Volume map[string]*big.Int
}

// usageFunc gives a rule's usage; nil counts nothing used.
type usageFunc func(rule string) Usage

// Evaluate decides on in without velocity history: daily limits are checked
// against this transaction alone (what `custos policy test` shows). The
// daemon decides through a Meter, which counts what was signed before.
func (p *Policy) Evaluate(in Input) Decision {
	d, _ := p.decide(in, nil)
	return d
}

// decide returns the decision and, for an allowing rule with daily limits,
// the rule that must count the transaction.
func (p *Policy) decide(in Input, used usageFunc) (Decision, *rule) {
	if !in.Decoded {
		return Decision{Index: -1, Reason: "policy: the transaction could not be decoded for the policy (the chain has no intent decoder)"}, nil
	}
	for i := range p.rules {
		r := &p.rules[i]
		if !r.matches(in) {
			continue
		}
		d := Decision{Rule: r.Name, Index: r.index}
		if r.Action == Deny {
			d.Reason = fmt.Sprintf("policy: rule %q denies", r.Name)
			return d, nil
		}
		if why := r.check(in, used); why != "" {
			d.Reason = fmt.Sprintf("policy: rule %q: %s", r.Name, why)
			return d, nil
		}
		d.Allow, d.Reason = true, fmt.Sprintf("policy: rule %q allows", r.Name)
		if r.count != nil || r.volume != nil {
			return d, r
		}
		return d, nil
	}
	return Decision{Index: -1, Reason: "policy: no rule matches (default deny)"}, nil
}

func (r *rule) matches(in Input) bool {
	it := in.Intent
	if r.chains != nil && !r.chains[it.Chain] {
		return false
	}
	if r.Match.Network != nil && *r.Match.Network != it.Network {
		return false
	}
	if r.wallets != nil && !allIn(in.Wallets, r.wallets, false) {
		return false
	}
	if r.signers != nil && !allIn(it.Signers, r.signers, true) {
		return false
	}
	return true
}

// allIn reports that xs is not empty and every x is in set.
func allIn(xs []string, set map[string]bool, addresses bool) bool {
	if len(xs) == 0 {
		return false
	}
	for _, x := range xs {
		if addresses {
			x = addrKey(x)
		}
		if !set[x] {
			return false
		}
	}
	return true
}

// check returns why in breaks one of r's limits, "" when it keeps them all.
func (r *rule) check(in Input, used usageFunc) string {
	l := r.Limits
	if l == nil {
		return ""
	}
	it := in.Intent
	sent, err := Sent(it)
	if err != nil {
		return err.Error()
	}
	if r.maxAmount != nil {
		for _, asset := range sortedKeys(sent) {
			max, ok := r.maxAmount[asset]
			if !ok {
				return fmt.Sprintf("maxAmount: asset %s is not allowed", assetName(asset))
			}
			if sent[asset].Cmp(max) > 0 {
				return fmt.Sprintf("maxAmount: %s of %s is above %s", sent[asset], assetName(asset), max)
			}
		}
	}
	if why := r.checkDaily(sent, used); why != "" {
		return why
	}
	for _, t := range it.Transfers {
		if t.Change {
			continue
		}
		to := addrKey(t.To)
		if r.denyTo[to] {
			return fmt.Sprintf("to: %s is on the deny list", t.To)
		}
		if r.allowTo != nil && !r.allowTo[to] {
			return fmt.Sprintf("to: %s is not on the allow list", t.To)
		}
	}
	if why := r.checkFee(it.Fee); why != "" {
		return why
	}
	if ix := l.Indexes; ix != nil {
		for _, i := range in.Indexes {
			if i < *ix.Min || i > *ix.Max {
				return fmt.Sprintf("indexes: derivation index %d is outside %d..%d", i, *ix.Min, *ix.Max)
			}
		}
	}
	if l.Calls != nil {
		for _, c := range it.Calls {
			if !slices.ContainsFunc(*l.Calls, func(a CallRule) bool { return a.allows(c) }) {
				return fmt.Sprintf("calls: %s on %s is not allowed", orAny(c.Method), c.Contract)
			}
		}
	}
	return ""
}

func (r *rule) checkDaily(sent map[string]*big.Int, used usageFunc) string {
	if r.count == nil && r.volume == nil {
		return ""
	}
	var u Usage
	if used != nil {
		u = used(r.Name)
	}
	if r.count != nil && u.Count+1 > *r.count {
		return fmt.Sprintf("daily.count: %d transactions in 24 hours already, the limit is %d", u.Count, *r.count)
	}
	if r.volume == nil {
		return ""
	}
	for _, asset := range sortedKeys(sent) {
		max, ok := r.volume[asset]
		if !ok {
			return fmt.Sprintf("daily.volume: asset %s is not allowed", assetName(asset))
		}
		total := new(big.Int).Add(sent[asset], orZero(u.Volume[asset]))
		if total.Cmp(max) > 0 {
			return fmt.Sprintf("daily.volume: %s of %s would make %s in 24 hours, above %s", sent[asset], assetName(asset), total, max)
		}
	}
	return ""
}

func (r *rule) checkFee(fee *intent.Fee) string {
	for _, f := range feeFields {
		max, ok := r.fee[f.name]
		if !ok {
			continue
		}
		var figure string
		if fee != nil {
			figure = f.figure(fee)
		}
		if figure == "" {
			// A legacy EVM transaction has no tip of its own: its gas price,
			// capped by gasPrice, bounds what it pays.
			if f.name == "maxPriorityFeePerGas" && fee != nil && fee.GasPrice != "" {
				continue
			}
			return fmt.Sprintf("fee.%s: the transaction does not state it", f.name)
		}
		n, ok := new(big.Int).SetString(figure, 10)
		if !ok || n.Sign() < 0 {
			return fmt.Sprintf("fee.%s: %q is not an amount", f.name, figure)
		}
		if n.Cmp(max) > 0 {
			return fmt.Sprintf("fee.%s: %s is above %s", f.name, n, max)
		}
	}
	return ""
}

func (a CallRule) allows(c intent.Call) bool {
	if a.Contract != "" && addrKey(a.Contract) != addrKey(c.Contract) {
		return false
	}
	if a.Method == "" {
		return true
	}
	if strings.HasPrefix(a.Method, "0x") {
		return strings.EqualFold(a.Method, c.Method)
	}
	return a.Method == c.Method
}

// Sent sums what the intent moves out of the wallet per asset (addrKey
// spelling; "" is the native coin), change outputs left out. An amount that
// is not a decimal integer is an error: it could not be compared.
func Sent(it intent.Intent) (map[string]*big.Int, error) {
	out := map[string]*big.Int{}
	for _, t := range it.Transfers {
		if t.Change {
			continue
		}
		n, ok := new(big.Int).SetString(t.Amount, 10)
		if !ok || n.Sign() < 0 {
			return nil, fmt.Errorf("amount %q of a transfer to %s is not a decimal integer", t.Amount, t.To)
		}
		k := addrKey(t.Asset)
		out[k] = new(big.Int).Add(orZero(out[k]), n)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func orZero(n *big.Int) *big.Int {
	if n == nil {
		return new(big.Int)
	}
	return n
}

func assetName(a string) string {
	if a == "" {
		return "the native coin"
	}
	return a
}

func orAny(m string) string {
	if m == "" {
		return "a call"
	}
	return m
}
