package approver

import (
	"strings"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
)

// Amount is an amount as the console shows it: in the asset's units where
// its decimals are known, with the intent's smallest-unit integer beside it
// for exactness.
type Amount struct {
	// Units is the amount in the asset's units ("0.5"); empty when the
	// asset's decimals are unknown (a token the rules file does not name)
	// or the intent's amount is not an integer of a smallest unit.
	Units string
	// Symbol is what Units count: the chain's code for its native coin,
	// the rules file's symbol for a token.
	Symbol string
	// Base is the amount as the intent has it.
	Base string
	// Asset is the token as the intent names it; empty for the native coin.
	Asset string
}

// amountOf is base (in the smallest unit of asset on chainCode, "" the
// native coin) as the console shows it. The native coin's decimals come
// from the chain table, a token's from the rules file.
func amountOf(rs *Rules, chainCode, asset, base string) Amount {
	a := Amount{Base: base, Asset: asset}
	decimals, ok := 0, false
	if asset == "" {
		decimals, ok = chains.Decimals(chainCode)
		a.Symbol = strings.ToUpper(chainCode)
	} else if tk, found := rs.Token(chainCode, asset); found {
		decimals, ok, a.Symbol = tk.Decimals, true, tk.Symbol
	}
	v, isInt := amount(base)
	if ok && isInt {
		a.Units = chain.FormatAmount(v, decimals)
	}
	return a
}

// transferView is one transfer of a transaction with its amount shown.
type transferView struct {
	intent.Transfer
	Shown Amount
}

// shown lists the transfers of t with their amounts as shown; change
// outputs only when change is true.
func shown(rs *Rules, t Tx, change bool) []transferView {
	var out []transferView
	for _, tr := range t.Request.Intent.Transfers {
		if tr.Change && !change {
			continue
		}
		out = append(out, transferView{Transfer: tr, Shown: amountOf(rs, t.Request.Chain, tr.Asset, tr.Amount)})
	}
	return out
}

// feeShown is t's fee ceiling as shown, nil when the intent has none.
func feeShown(rs *Rules, t Tx) *Amount {
	f := t.Request.Intent.Fee
	if f == nil {
		return nil
	}
	a := amountOf(rs, t.Request.Chain, f.Asset, f.Max)
	return &a
}
