package evm

import "errors"

// ErrIncompleteTx is wrapped (with chain.ErrInvalidTx) when a Tatum-format
// transaction lacks a field the signer cannot invent (nonce, gas, gas price,
// chain id). The server completes such transactions from the chain's node at
// creation (Complete); the signer never guesses them.
var ErrIncompleteTx = errors.New("incomplete transaction")

// ErrForeignDecoded refuses a SignRequest whose Decoded is not this chain's
// decoding of its Serialized: signing it could sign other bytes than those
// the request names.
var ErrForeignDecoded = errors.New("the decoded transaction is not this chain's decoding of the serialized one")
