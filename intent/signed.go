package intent

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
)

// MismatchError is CheckSigned's answer when a signed transaction is not the
// queued one: Field names the first part that differs, Queued and Signed are
// both sides' values as JSON.
type MismatchError struct {
	Field          string
	Queued, Signed string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s: the signed transaction has %s, the queued one %s", e.Field, e.Signed, e.Queued)
}

func mismatch(field string, queued, signed any) *MismatchError {
	q, _ := json.Marshal(queued)
	s, _ := json.Marshal(signed)
	return &MismatchError{Field: field, Queued: string(q), Signed: string(s)}
}

// CheckSigned reports whether signed, the intent of a signed transaction
// (a chain's SignedIntent), is the transaction queued describes, or one
// within what queued allows; nil when it is, else a *MismatchError naming
// the first field that is not.
//
// Equal on both sides: chain and network, the transfers (recipient, amount,
// asset, in order; Change is derived from the signers and not compared),
// the calls, the memo and the spent outputs. Within what queued allows:
//   - chainId, sequence: equal when queued has one; a signer may fill one
//     queued left out (Tatum's SDK fills a missing nonce);
//   - signers: when queued names any, signed names none it does not, and on a
//     chain without Inputs (an account chain, whose signature shows its
//     signer) it names every one queued names. A UTXO signature shows its
//     key only where the input type carries it (not a taproot key path),
//     and the spent outputs, compared equal, fix whose keys can sign;
//   - fee: each of Max, GasPrice, MaxPriorityFeePerGas and GasLimit queued
//     gives is an upper bound, and Asset is equal. A signed intent without
//     a fee passes only when it spends Inputs, which with the outputs fix
//     the fee.
func CheckSigned(queued, signed Intent) error {
	switch {
	case queued.Chain != signed.Chain || queued.Network != signed.Network:
		return mismatch("chain", queued.Chain+" "+queued.Network, signed.Chain+" "+signed.Network)
	case queued.ChainID != "" && queued.ChainID != signed.ChainID:
		return mismatch("chainId", queued.ChainID, signed.ChainID)
	}
	if err := checkSigners(queued, signed); err != nil {
		return err
	}
	if !slices.EqualFunc(queued.Transfers, signed.Transfers, func(a, b Transfer) bool {
		return a.To == b.To && a.Amount == b.Amount && a.Asset == b.Asset
	}) {
		return mismatch("transfers", queued.Transfers, signed.Transfers)
	}
	switch {
	case !slices.Equal(queued.Calls, signed.Calls):
		return mismatch("calls", queued.Calls, signed.Calls)
	case queued.Memo != signed.Memo:
		return mismatch("memo", queued.Memo, signed.Memo)
	case !slices.Equal(queued.Inputs, signed.Inputs):
		return mismatch("inputs", queued.Inputs, signed.Inputs)
	}
	if err := checkFee(queued.Fee, signed.Fee, len(signed.Inputs) > 0); err != nil {
		return err
	}
	if queued.Sequence != nil && (signed.Sequence == nil || *signed.Sequence != *queued.Sequence) {
		return mismatch("sequence", queued.Sequence, signed.Sequence)
	}
	return nil
}

func checkSigners(queued, signed Intent) error {
	if len(queued.Signers) == 0 {
		return nil // the transaction left its signer to the key
	}
	for _, s := range signed.Signers {
		if !slices.Contains(queued.Signers, s) {
			return mismatch("signers", queued.Signers, signed.Signers)
		}
	}
	if len(signed.Inputs) > 0 {
		return nil
	}
	for _, s := range queued.Signers {
		if !slices.Contains(signed.Signers, s) {
			return mismatch("signers", queued.Signers, signed.Signers)
		}
	}
	return nil
}

func checkFee(queued, signed *Fee, spendsInputs bool) error {
	if queued == nil {
		return nil
	}
	if signed == nil {
		if spendsInputs {
			return nil
		}
		return mismatch("fee", queued, signed)
	}
	if queued.Asset != signed.Asset {
		return mismatch("fee.asset", queued.Asset, signed.Asset)
	}
	for _, f := range []struct {
		name           string
		queued, signed string
	}{
		{"fee.max", queued.Max, signed.Max},
		{"fee.gasPrice", queued.GasPrice, signed.GasPrice},
		{"fee.maxPriorityFeePerGas", queued.MaxPriorityFeePerGas, signed.MaxPriorityFeePerGas},
		{"fee.gasLimit", queued.GasLimit, signed.GasLimit},
	} {
		if f.queued == "" {
			continue
		}
		if !atMost(f.signed, f.queued) {
			return mismatch(f.name, f.queued, f.signed)
		}
	}
	return nil
}

// atMost reports whether the decimal integer a is at most b; false when
// either is not one (an amount nobody can compare is not within a bound).
func atMost(a, b string) bool {
	x, ok := new(big.Int).SetString(a, 10)
	if !ok {
		return false
	}
	y, ok := new(big.Int).SetString(b, 10)
	return ok && x.Cmp(y) <= 0
}
