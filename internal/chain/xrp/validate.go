package xrp

import (
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.TxValidator = (*Chain)(nil)

// ValidateTx implements chain.TxValidator for XRPL transaction JSON (the Tatum
// and the native form are the same): a TransactionType and a classic Account,
// with the common fields in their XRPL JSON types where present.
func (c *Chain) ValidateTx(serialized string, _ bool, _ ...uint64) error {
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return err
	}
	tt, err := o.String("TransactionType")
	if err != nil {
		return err
	}
	for _, r := range tt {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') {
			return chain.InvalidTx("TransactionType is not a transaction type name")
		}
	}
	acct, err := o.String("Account")
	if err != nil {
		return err
	}
	if _, err := DecodeAddress(acct); err != nil {
		return chain.InvalidTx("Account is not a classic XRP address")
	}
	if o.Has("Destination") {
		d, err := o.String("Destination")
		if err != nil {
			return err
		}
		if _, err := DecodeAddress(d); err != nil {
			return chain.InvalidTx("Destination is not a classic XRP address")
		}
	}
	if o.Has("Fee") {
		// Fee is an amount of drops, which XRPL JSON writes as a string.
		f, err := o.String("Fee")
		if err != nil || !chain.IsDecimal(f) {
			return chain.InvalidTx("Fee is not a string of drops")
		}
	}
	for _, k := range []string{"Sequence", "LastLedgerSequence", "Flags", "DestinationTag"} {
		if o.Has(k) {
			if n, err := o.Uint(k, false); err != nil {
				return err
			} else if n > 1<<32-1 {
				return chain.InvalidTx("%q does not fit 32 bits", k)
			}
		}
	}
	return nil
}
