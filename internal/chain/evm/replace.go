package evm

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Replacer = (*Chain)(nil)

// PriceBump is the fee rise, in percent, a node's pool asks of a
// transaction that replaces one it holds at the same nonce: geth's
// --txpool.pricebump default, which its forks (BSC, Polygon, Celo, XDC,
// Harmony, Klaytn) keep. geth wants both the gas price (or fee cap) and the
// tip raised by it, each strictly above the old one.
const PriceBump = 10

// MinReplacementFee is the lowest fee a node takes in place of old: old
// raised by PriceBump percent, rounded up, and at least old + 1.
func MinReplacementFee(old *big.Int) *big.Int {
	n := new(big.Int).Mul(old, big.NewInt(100+PriceBump))
	n.Add(n, big.NewInt(99)).Div(n, big.NewInt(100))
	return bigMax(n, new(big.Int).Add(old, big.NewInt(1)))
}

// priceNode is the part of a node Replacement asks: eth_gasPrice.
type priceNode interface {
	SuggestGasPrice(ctx context.Context) (*big.Int, error)
}

// Replacement implements chain.Replacer. It starts from what the node holds
// (r.Signed, whose sender the signature tells; else r.Serialized, which must
// be complete) and returns a Tatum-format transaction at the same nonce and
// chain id naming the sender as `from`: the same call (speed-up) or a
// zero-value transfer from the sender to itself without gas (cancel: the
// node estimates it), of the same fee type, each fee at least
// MinReplacementFee of the highest it and r.Rivals offer. A fee the caller leaves out is that
// minimum, raised to the node's current gas price when that is higher (a
// transaction stuck under a price the chain moved past would be stuck
// again), but never above r.MaxFee; one the caller gives must lie between
// the minimum and r.MaxFee.
func (c *Chain) Replacement(ctx context.Context, node any, r chain.ReplaceRequest) (string, error) {
	t, sender, err := c.replaced(r)
	if err != nil {
		return "", err
	}
	legacy := t.Type == TypeLegacy || t.Type == TypeAccessList
	// geth reads a legacy gas price as both the fee cap and the tip.
	oldCap, oldTip := bigFirst(t.GasFeeCap, t.GasPrice), bigFirst(t.GasTipCap, t.GasPrice)
	for _, signed := range r.Rivals {
		rival, _, err := c.decodeSignedHex(signed, r.Testnet, r.ExtraChainIDs...)
		if err != nil {
			return "", fmt.Errorf("a replacement already broadcast: %w", err)
		}
		if *rival.Nonce != *t.Nonce {
			return "", invalid("a replacement already broadcast has nonce %d, not %d", *rival.Nonce, *t.Nonce)
		}
		oldCap = bigMax(oldCap, bigFirst(rival.GasFeeCap, rival.GasPrice))
		oldTip = bigMax(oldTip, bigFirst(rival.GasTipCap, rival.GasPrice))
	}
	allowed := []string{"maxFeePerGas", "maxPriorityFeePerGas"}
	if legacy {
		allowed = []string{"gasPrice"}
	}
	for k := range r.Fees {
		if !slices.Contains(allowed, k) {
			return "", invalid("%s: this transaction's fees are %s", k, strings.Join(allowed, " and "))
		}
	}
	var market *big.Int
	if p, ok := node.(priceNode); ok {
		if market, err = p.SuggestGasPrice(ctx); err != nil {
			return "", fmt.Errorf("node eth_gasPrice: %w", err)
		}
	}
	fee := func(field string, old, floor *big.Int) (*big.Int, error) {
		least := MinReplacementFee(old)
		if floor != nil && floor.Cmp(least) > 0 {
			least = floor
		}
		if given := r.Fees[field]; given != nil {
			if given.Cmp(MinReplacementFee(old)) < 0 {
				return nil, invalid("%s: %s wei is below the node's replacement minimum of %s wei (%d%% above %s)",
					field, given, MinReplacementFee(old), PriceBump, old)
			}
			least = given
		} else if r.MaxFee != nil && least.Cmp(r.MaxFee) > 0 && MinReplacementFee(old).Cmp(r.MaxFee) <= 0 {
			least = new(big.Int).Set(r.MaxFee) // the node's price is only a suggestion
		}
		if r.MaxFee != nil && least.Cmp(r.MaxFee) > 0 {
			return nil, invalid("%s: %s wei is above the server's ceiling of %s wei (--max-gas-price)", field, least, r.MaxFee)
		}
		return least, nil
	}
	out := map[string]any{"nonce": fmt.Sprintf("%#x", *t.Nonce), "chainId": t.ChainID.Uint64()}
	if sender != nil {
		out["from"] = sender.Hex()
	}
	if r.Cancel {
		if sender == nil {
			return "", invalid("a cancel needs the sender, and neither the signed transaction nor `from` tells it")
		}
		out["to"], out["value"] = sender.Hex(), "0"
	} else {
		out["value"], out["gas"] = t.Value.String(), *t.Gas
		if t.To != nil {
			out["to"] = t.To.Hex()
		}
		if len(t.Data) > 0 {
			out["data"] = "0x" + hex.EncodeToString(t.Data)
		}
		if len(t.AccessList) > 0 || t.Type == TypeAccessList {
			out["accessList"] = t.AccessList
		}
	}
	if t.FeeCurrency != nil {
		out["feeCurrency"] = t.FeeCurrency.Hex()
	}
	if legacy {
		p, err := fee("gasPrice", oldCap, market)
		if err != nil {
			return "", err
		}
		out["gasPrice"] = p.String()
	} else {
		tip, err := fee("maxPriorityFeePerGas", oldTip, nil)
		if err != nil {
			return "", err
		}
		feeCap, err := fee("maxFeePerGas", oldCap, bigMaxNil(market, tip))
		if err != nil {
			return "", err
		}
		if tip.Cmp(feeCap) > 0 {
			return "", invalid("maxPriorityFeePerGas: %s wei is above maxFeePerGas %s wei", tip, feeCap)
		}
		out["maxPriorityFeePerGas"], out["maxFeePerGas"] = tip.String(), feeCap.String()
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode replacement: %w", err)
	}
	return string(b), nil
}

// replaced is the transaction a replacement takes the place of, and its
// sender when known.
func (c *Chain) replaced(r chain.ReplaceRequest) (*Tx, *common.Address, error) {
	if strings.TrimSpace(r.Signed) != "" {
		t, sender, err := c.decodeSignedHex(r.Signed, r.Testnet, r.ExtraChainIDs...)
		if err != nil {
			return nil, nil, err
		}
		return t, &sender, nil
	}
	t, err := c.ParseTx(r.Serialized)
	if err != nil {
		return nil, nil, err
	}
	if m := t.Missing(); len(m) > 0 {
		return nil, nil, fmt.Errorf("%w: %w: the signed transaction is not known and the queued one lacks %s", chain.ErrInvalidTx, ErrIncompleteTx, strings.Join(m, ", "))
	}
	return t, t.From, nil
}

func bigMax(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

// bigFirst is a, or b when a is nil.
func bigFirst(a, b *big.Int) *big.Int {
	if a != nil {
		return a
	}
	return b
}

// bigMaxNil is bigMax where a may be nil (unknown).
func bigMaxNil(a, b *big.Int) *big.Int {
	if a == nil {
		return b
	}
	return bigMax(a, b)
}
