package utxo

import "errors"

// Errors callers branch on. Malformed transactions wrap chain.ErrInvalidTx,
// wrong-network keys and transactions chain.ErrWrongNetwork, bad keys
// chain.ErrInvalidKey.
var (
	// ErrKeyNotFound: an input spends an output none of the given keys controls.
	ErrKeyNotFound = errors.New("no given key controls the input")
	// ErrOutputsExceedInputs: the outputs spend more than the inputs hold.
	ErrOutputsExceedInputs = errors.New("outputs exceed inputs")
	// ErrFeeTooHigh: the fee (inputs minus outputs) is above the chain's cap.
	ErrFeeTooHigh = errors.New("fee exceeds the cap")
	// ErrUnsupportedInput: an input's script type cannot be signed on this chain.
	ErrUnsupportedInput = errors.New("unsupported input type")
	// ErrInvalidXPub: an extended public key that does not parse or is for another chain or network.
	ErrInvalidXPub = errors.New("invalid extended public key")
)
