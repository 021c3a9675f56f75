package chain

import (
	"errors"
	"fmt"
	"math/big"
)

// The methods below let a builder check a whole transfer request and answer
// every problem at once, as Tatum's validation lists them, instead of the
// first only.

// Add records that field is wrong.
func (e *FieldErrors) Add(field, format string, args ...any) {
	*e = append(*e, field+": "+fmt.Sprintf(format, args...))
}

// Require records a required string field left out or empty, and reports
// whether it is there.
func (e *FieldErrors) Require(field, v string) bool {
	if v == "" {
		e.Add(field, "is required")
		return false
	}
	return true
}

// Amount is a required amount field in base units (ParseAmount with the
// asset's decimals), recorded as wrong when it is 0 and positive is set (a
// ledger that refuses a transfer of nothing) or when it exceeds most (the
// largest amount the chain's transaction holds). It is nil when wrong.
func (e *FieldErrors) Amount(field, v string, decimals int, positive bool, most *big.Int) *big.Int {
	if !e.Require(field, v) {
		return nil
	}
	a, err := ParseAmount(field, v, decimals)
	var fe FieldErrors
	switch {
	case errors.As(err, &fe):
		*e = append(*e, fe...)
		return nil
	case err != nil:
		e.Add(field, "%v", err)
		return nil
	case positive && a.Sign() == 0:
		e.Add(field, "must be more than 0")
		return nil
	case a.Cmp(most) > 0:
		e.Add(field, "is more than the chain can transfer in one transaction, got %q", clip(v))
		return nil
	}
	return a
}

// Err is e as an error, nil when nothing was recorded.
func (e FieldErrors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}
