package utxo

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/txscript"
)

// Transaction size, in weight units (BIP 141; virtual bytes are weight / 4),
// of what a transfer adds, with the largest signatures (72-byte DER) so
// that an estimate never falls short of the signed transaction.
const (
	weightOverhead = 4 * (4 + 1 + 1 + 4) // version, input and output counts (≤ 252 each), lock time
	weightSegwit   = 2                   // marker and flag, once any input has a witness
	// An input's outpoint, sequence and script length: 41 bytes, and its
	// unlocking data.
	weightP2PKH     = 4 * (41 + 1 + 72 + 1 + 33)
	weightP2WPKH    = 4*41 + (1 + 1 + 72 + 1 + 33)
	weightP2SHWPKH  = 4*(41+23) + (1 + 1 + 72 + 1 + 33)
	weightP2TR      = 4*41 + (1 + 1 + 64)
	coinbaseMature  = 100 // blocks before a block reward may be spent
	dogeMature      = 240 // Dogecoin's, since its block 145,000
	dogeDust        = 1_000_000
	dustRelayPerKvB = 3_000 // Core's DUST_RELAY_TX_FEE, also btcd's and bchd's rule
)

// inputWeight is the weight an input spending script adds.
func inputWeight(script []byte) int64 {
	switch {
	case isP2WPKH(script):
		return weightP2WPKH
	case isP2SH(script):
		return weightP2SHWPKH
	case isP2TR(script):
		return weightP2TR
	}
	return weightP2PKH
}

func spendsWitness(script []byte) bool { return isP2WPKH(script) || isP2SH(script) || isP2TR(script) }

func outputWeight(script []byte) int64 { return 4 * (8 + 1 + int64(len(script))) }

// dust is the smallest value an output paying script may carry and still be
// relayed: Core's rule (the output and the input spending it, at 3 sat/vB;
// 546 for P2PKH, 294 for P2WPKH), Dogecoin's fixed 0.01 DOGE.
func (c *Chain) dust(script []byte) int64 {
	if c.info.Code == "DOGE" {
		return dogeDust
	}
	spend := int64(148)
	if len(script) > 0 && script[0] <= txscript.OP_16 && c.segwit { // a witness program: OP_0..OP_16 and a push
		spend = 67
	}
	return (8 + 1 + int64(len(script)) + spend) * dustRelayPerKvB / 1000
}

func (c *Chain) mature(u Unspent) bool {
	need := int64(coinbaseMature)
	if c.info.Code == "DOGE" {
		need = dogeMature
	}
	return !u.Coinbase || u.Confirmations >= need
}

// feeOf is the fee of a transaction of these inputs and outputs at rate base
// units per 1000 virtual bytes, rounded up.
func feeOf(rate int64, inputs []Unspent, outputs [][]byte) int64 {
	var w inputsWeight
	for _, in := range inputs {
		w.add(in)
	}
	return w.fee(rate, outputs)
}

// inputsWeight is the weight of a transaction's inputs, summed as they are
// added so that selection stays linear in the candidates.
type inputsWeight struct {
	w       int64
	witness bool
}

func (iw *inputsWeight) add(in Unspent) {
	iw.w += inputWeight(in.Script)
	iw.witness = iw.witness || spendsWitness(in.Script)
}

// fee is the fee, rounded up, at rate of the transaction of these inputs
// and outputs.
func (iw inputsWeight) fee(rate int64, outputs [][]byte) int64 {
	w := weightOverhead + iw.w
	if iw.witness {
		w += weightSegwit
	}
	for _, o := range outputs {
		w += outputWeight(o)
	}
	vsize := (w + 3) / 4
	return (rate*vsize + 999) / 1000
}

// plan is the inputs and fee of a transfer, and its change (0: none).
type plan struct {
	inputs []Unspent
	fee    int64
	change int64
}

// fee is how a transfer pays: a fixed amount (the request's fee) or a rate
// (per 1000 virtual bytes) from the node's estimate.
type fee struct {
	fixed *int64
	rate  int64
}

func (f fee) of(inputs inputsWeight, outputs [][]byte) int64 {
	if f.fixed != nil {
		return *f.fixed
	}
	return inputs.fee(f.rate, outputs)
}

// shortError is a selection that cannot pay: what was needed and held, in
// base units.
type shortError struct{ need, have int64 }

func (e *shortError) Error() string { return fmt.Sprintf("need %d, have %d", e.need, e.have) }

// selectInputs picks what pays outputs (their scripts and values) plus fee,
// with change to changeScript. Deterministic, largest first: candidates
// sorted by value descending (ties by txid, then vout) are added one at a
// time until they pay the outputs, the fee of the transaction as it then
// stands, and either a change output of at least the dust threshold or no
// change at all. A remainder too small for a change output goes to the fee
// with an estimated fee (as wallets do); with a fixed fee the next input is
// taken first, so the fee stays as asked while inputs remain. Largest first
// uses the fewest inputs, hence the lowest fee, and is O(n log n): 10,000
// candidates take milliseconds (BENCHMARKS.md).
func (c *Chain) selectInputs(candidates []Unspent, outputs [][]byte, values []int64, changeScript []byte, f fee) (plan, error) {
	sorted := slices.Clone(candidates)
	slices.SortFunc(sorted, func(a, b Unspent) int {
		if a.Value != b.Value {
			return cmp.Compare(b.Value, a.Value)
		}
		if a.TxID != b.TxID {
			return cmp.Compare(a.TxID, b.TxID)
		}
		return cmp.Compare(a.Vout, b.Vout)
	})
	return c.fund(sorted, outputs, values, changeScript, f, false)
}

// fund takes inputs in order as selectInputs documents; all says every
// input must be spent (the fromUTXO form), so only the change is decided.
func (c *Chain) fund(inputs []Unspent, outputs [][]byte, values []int64, changeScript []byte, f fee, all bool) (plan, error) {
	var target int64
	for _, v := range values {
		target += v
	}
	withChange := append(slices.Clip(outputs), changeScript)
	dust := c.dust(changeScript)
	var sum int64
	var leftover *plan
	var w inputsWeight
	for i, in := range inputs {
		sum += in.Value
		w.add(in)
		if all && i < len(inputs)-1 {
			continue
		}
		used := inputs[:i+1]
		if len(used) > maxInputs {
			break
		}
		feeNo := f.of(w, outputs)
		if sum < target+feeNo {
			continue
		}
		feeChange := f.of(w, withChange)
		if change := sum - target - feeChange; change >= dust {
			return plan{inputs: used, fee: feeChange, change: change}, nil
		}
		p := plan{inputs: used, fee: sum - target}
		if f.fixed == nil || sum-target == feeNo {
			return p, nil
		}
		if leftover == nil {
			leftover = &p
		}
	}
	if leftover != nil {
		return *leftover, nil
	}
	var most inputsWeight
	for _, in := range inputs[:min(len(inputs), maxInputs)] {
		most.add(in)
	}
	need := target + f.of(most, outputs)
	if len(inputs) > maxInputs {
		return plan{}, fmt.Errorf("paying needs more than %d inputs: %w", maxInputs, &shortError{need: need, have: sum})
	}
	return plan{}, &shortError{need: need, have: sum}
}
