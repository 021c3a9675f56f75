package utxo

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Replacer = (*Chain)(nil)

// incrementalRelayPerKvB is what a replacement must pay on top of the fee of
// every transaction it evicts, per 1000 virtual bytes of its own size: BIP
// 125's rule 4 at Core's default -incrementalrelayfee (1 sat/vB), which
// btcd and litecoind keep.
const incrementalRelayPerKvB = 1_000

// replaceBlocks is the confirmation target the node's fee rate is asked
// for: a speed-up should confirm soon.
const replaceBlocks = 2

// FeeField names the replacement fee a caller may ask for, in base units.
const FeeField = "fee"

// Replacement implements chain.Replacer for BIP 125 (replace by fee): a
// speed-up is the queued PSBT again, the same inputs with the same
// sequences, the same outputs, and the change output lowered by the fee
// raise. The change is the last output paying back to a script one of the
// inputs spends (the transfer builder's change to the first sender); a
// transaction without one, or whose change would fall below dust, cannot be
// sped up, as lowering a payment to someone else is never an option. The fee
// is at least the highest the transaction (r.Signed, else as queued) and
// r.Rivals paid plus the
// incremental relay fee for the replacement's size (BIP 125 rule 4), raised
// to the node's current rate for replaceBlocks when that is higher, or
// r.Fees[FeeField] when given (not below that minimum); never above r.MaxFee
// nor the chain's fee cap. Cancel is refused: a UTXO transaction has no
// no-op that the signer could check against the wallet.
func (c *Chain) Replacement(ctx context.Context, node any, r chain.ReplaceRequest) (string, error) {
	if r.Cancel {
		return "", invalid("%s transactions are sped up only: cancel would send the inputs elsewhere", c.info.Code)
	}
	p, err := c.replaceable(r.Serialized)
	if err != nil {
		return "", err
	}
	tx := p.UnsignedTx
	var in, out int64
	var w inputsWeight
	for _, i := range p.Inputs {
		in += i.WitnessUtxo.Value
		w.add(Unspent{Script: i.WitnessUtxo.PkScript})
	}
	scripts := make([][]byte, len(tx.TxOut))
	for i, o := range tx.TxOut {
		out += o.Value
		scripts[i] = o.PkScript
	}
	change := changeOutput(p)
	if change < 0 {
		return "", invalid("no output pays back to the sender: there is no change to pay a higher fee from")
	}
	queued := in - out
	paid := queued
	for _, signed := range append([]string{r.Signed}, r.Rivals...) {
		if signed == "" {
			continue // completed by the signer itself: the queued fee stands
		}
		rivalOut, err := signedOutputs(signed)
		if err != nil {
			return "", err
		}
		paid = max(paid, in-rivalOut) // a replacement spends the same inputs
	}
	fee := paid + w.fee(incrementalRelayPerKvB, scripts)
	if asked, ok := r.Fees[FeeField]; ok {
		if !asked.IsInt64() || asked.Int64() < fee {
			return "", invalid("fee %s is below the replacement minimum %d (the %d paid plus the incremental relay fee)", asked, fee, paid)
		}
		fee = asked.Int64()
	} else if rater, ok := node.(FeeRater); ok {
		rate, err := rater.FeeRate(ctx, replaceBlocks)
		if err != nil {
			return "", err
		}
		fee = max(fee, w.fee(rate, scripts))
	}
	if limit := c.maxFee; fee > limit || (r.MaxFee != nil && r.MaxFee.IsInt64() && fee > r.MaxFee.Int64()) {
		return "", invalid("the replacement fee %d is above the fee cap", fee)
	}
	// The replacement starts from the queued outputs, whose fee is queued.
	left := tx.TxOut[change].Value - (fee - queued)
	if dust := c.dust(tx.TxOut[change].PkScript); left < dust {
		return "", invalid("the change (%d) cannot pay the replacement fee %d (%d more) and keep %d", tx.TxOut[change].Value, fee, fee-queued, dust)
	}
	tx.TxOut[change].Value = left
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// replaceable parses a queued PSBT that can be replaced: every input
// carries witness_utxo (what the transfer builder writes, and what the fee
// is computed from) and one at least signals replacement (BIP 125).
func (c *Chain) replaceable(serialized string) (*psbt.Packet, error) {
	if _, err := c.parse(serialized); err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(serialized))
	if err != nil {
		return nil, invalid("only a PSBT transfer can be sped up")
	}
	p, err := psbt.NewFromRawBytes(bytes.NewReader(raw), false)
	if err != nil {
		return nil, invalid("only a PSBT transfer can be sped up")
	}
	signals := false
	for i, in := range p.Inputs {
		if in.WitnessUtxo == nil {
			return nil, invalid("input %d carries no witness_utxo: its amount is not known", i)
		}
		signals = signals || p.UnsignedTx.TxIn[i].Sequence < wire.MaxTxInSequenceNum-1
	}
	if !signals {
		return nil, invalid("the transaction does not signal replacement (BIP 125): the node would refuse a replacement")
	}
	return p, nil
}

// changeOutput is the index of the last output paying a script one of the
// inputs spends, -1 when none does.
func changeOutput(p *psbt.Packet) int {
	for i := len(p.UnsignedTx.TxOut) - 1; i >= 0; i-- {
		for _, in := range p.Inputs {
			if bytes.Equal(p.UnsignedTx.TxOut[i].PkScript, in.WitnessUtxo.PkScript) {
				return i
			}
		}
	}
	return -1
}

// signedOutputs sums the outputs of a signed transaction in hex.
func signedOutputs(signed string) (int64, error) {
	raw, err := hex.DecodeString(strings.TrimSpace(signed))
	if err != nil {
		return 0, fmt.Errorf("%w: a replaced transaction is not hex", chain.ErrInvalidTx)
	}
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		return 0, fmt.Errorf("%w: a replaced transaction does not decode: %v", chain.ErrInvalidTx, err)
	}
	var out int64
	for _, o := range tx.TxOut {
		out += o.Value
	}
	return out, nil
}
