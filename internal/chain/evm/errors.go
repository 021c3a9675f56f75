package evm

import "errors"

// ErrIncompleteTx is wrapped (with chain.ErrInvalidTx) when a Tatum-format
// transaction lacks a field the signer cannot invent (nonce, gas, gas price,
// chain id). The server completes such transactions from the chain's node at
// creation (Complete); the signer never guesses them.
var ErrIncompleteTx = errors.New("incomplete transaction")
