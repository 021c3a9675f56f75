package broadcast

import (
	"context"
	"fmt"
)

var _ Tracker = (*UTXOClient)(nil)

// codeNoTx is the nodes' JSON-RPC error for a transaction they do not know
// (RPC_INVALID_ADDRESS_OR_KEY; btcd's ErrRPCNoTxInfo has the same number).
const codeNoTx = -5

// Lookup implements Tracker with getrawtransaction (verbose): its
// confirmations, and the height of its block from getblockheader. A
// transaction the node does not know stays Unknown: telling a double spend
// apart needs its inputs looked up one by one, which is not done yet.
// The fee is not reported: it needs every input's previous output.
func (c *UTXOClient) Lookup(ctx context.Context, txID, _ string) (_ Outcome, err error) {
	defer scrub(&err, c.node.raw)
	var tx struct {
		Confirmations uint64 `json:"confirmations"`
		BlockHash     string `json:"blockhash"`
	}
	code, msg, err := c.call(ctx, "getrawtransaction", []any{txID, 1}, &tx)
	switch {
	case err != nil:
		return Outcome{}, err
	case code == codeNoTx:
		return Outcome{Progress: Unknown}, nil
	case msg != "":
		return Outcome{}, fmt.Errorf("%w: getrawtransaction: %s (code %d)", ErrUnavailable, msg, code)
	case tx.Confirmations == 0 || tx.BlockHash == "":
		return Outcome{Progress: Pending}, nil
	}
	var header struct {
		Height        uint64 `json:"height"`
		Confirmations uint64 `json:"confirmations"`
	}
	code, msg, err = c.call(ctx, "getblockheader", []any{tx.BlockHash, true}, &header)
	switch {
	case err != nil:
		return Outcome{}, err
	case msg != "":
		return Outcome{}, fmt.Errorf("%w: getblockheader: %s (code %d)", ErrUnavailable, msg, code)
	}
	return Outcome{Progress: Mined, BlockNumber: header.Height, Confirmations: tx.Confirmations}, nil
}
