package chain

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/custoskms/custos/internal/strictjson"
)

// Transferer is a chain whose Tatum KMS-mode transfer request the server
// builds into a transaction to queue: POST /v3/{slug}/transaction with
// Tatum's body and a signatureId (+ index) where an app would otherwise give
// a private key (docs/design.md §4.14). The server then treats what Transfer
// returns exactly as a POST /v3/kms body: the same validation, tenant and
// network rules, sequence allocation and completion from the node, so a
// builder leaves out what those fill (an EVM nonce and gas price, an XRP fee
// and Sequence) and never duplicates them.
type Transferer interface {
	// Transfer parses body, the request as Tatum's v3 API takes it for the
	// chain, and returns the transaction to queue. node is the server's node
	// client for the key's network, or nil when none is configured (a builder
	// that needs one says so with a FieldErrors naming what it could not
	// find). A request that is wrong is a FieldErrors, answered 400; a node
	// that refuses is broadcast.ErrRejected, one that cannot be asked
	// anything else.
	Transfer(ctx context.Context, node any, body []byte, testnet bool) (Transfer, error)
}

// Transfer is a built transaction in the fields of a POST /v3/kms body.
type Transfer struct {
	// Serialized is the serializedTransaction, in a form the chain's
	// TxValidator accepts.
	Serialized string
	// Hashes are the signature IDs whose keys sign (signatureId).
	Hashes []string
	// Index is the mnemonic wallet's index of hashes[0], nil for a key.
	Index *uint32
	// Signatures name a signature ID and index per signer where signers
	// differ (UTXO inputs from several wallets).
	Signatures []TransferSignature
}

// TransferSignature is one signer of a Transfer.
type TransferSignature struct {
	ID    string
	Index *uint32
}

// FeeEstimator answers Tatum's POST /v3/blockchain/estimate for the chain,
// from its node: body is the request (its "chain" names this chain), the
// result is written as the JSON answer. Errors as Transfer's.
type FeeEstimator interface {
	EstimateFee(ctx context.Context, node any, body []byte, testnet bool) (any, error)
}

// FieldErrors is what is wrong with a request, one "field: message" each,
// as the API's 400 lists them.
type FieldErrors []string

func (e FieldErrors) Error() string { return strings.Join(e, "; ") }

// ParseAmount converts a decimal amount string in an asset's units, as
// Tatum's API takes amounts ("0.1", "12", "1.000001"), into base units
// exactly: no floating point is ever involved, so "0.1" ETH is exactly
// 100000000000000000 wei. It takes what Tatum's validation takes
// (^[+]?((\d+(\.\d*)?)|(\.\d+))$: "+1", "1.", ".5") and refuses the rest:
// a minus sign, exponents, blanks, and more fraction digits than decimals (a
// value the asset cannot hold, which rounding would silently change). Zero
// is a valid amount (an EVM call sends 0); a builder that needs more says so.
// field names the request field in the error.
func ParseAmount(field, s string, decimals int) (*big.Int, error) {
	bad := func(why string) error {
		return FieldErrors{fmt.Sprintf("%s: %s, got %q", field, why, clip(s))}
	}
	if s == "" {
		return nil, bad("must be a decimal number")
	}
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "+"), ".")
	if (whole == "" && frac == "") || !digits(whole) || !digits(frac) {
		return nil, bad("must be a non-negative decimal number such as 1.5")
	}
	if len(frac) > decimals {
		return nil, bad(fmt.Sprintf("has more than the asset's %d decimals", decimals))
	}
	// Bound the size so a megabyte of digits cannot cost big-number time;
	// 78 digits hold any 256-bit value.
	if len(whole)+decimals > 78 {
		return nil, bad("is too large")
	}
	v, ok := new(big.Int).SetString(whole+frac+strings.Repeat("0", decimals-len(frac)), 10)
	if !ok {
		return nil, bad("must be a decimal number")
	}
	if v.BitLen() > 256 {
		return nil, bad("is too large")
	}
	return v, nil
}

// FormatAmount is ParseAmount's inverse: base units v of an asset with
// decimals as a decimal string in the asset's units, exactly (big-number
// arithmetic, no floating point), without trailing fraction zeros:
// 500000000000000000 with 18 decimals is "0.5", 1200 with 2 is "12".
// A negative v keeps its sign.
func FormatAmount(v *big.Int, decimals int) string {
	digits := new(big.Int).Abs(v).String()
	sign := ""
	if v.Sign() < 0 {
		sign = "-"
	}
	if decimals <= 0 {
		return sign + digits
	}
	if len(digits) <= decimals {
		digits = strings.Repeat("0", decimals-len(digits)+1) + digits
	}
	whole, frac := digits[:len(digits)-decimals], strings.TrimRight(digits[len(digits)-decimals:], "0")
	if frac == "" {
		return sign + whole
	}
	return sign + whole + "." + frac
}

// digits reports whether s holds only ASCII digits (the empty string does).
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens a client-supplied value for an error message.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// DecodeRequest decodes a transfer or estimate body into v, refusing
// duplicate and case-variant keys (two readers must not read two requests)
// and wording what is wrong as FieldErrors.
func DecodeRequest(body []byte, v any) error {
	if err := strictjson.Decode(body, v); err != nil {
		return FieldErrors{err.Error()}
	}
	return nil
}
