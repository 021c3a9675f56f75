package broadcast

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/wire"
)

var _ Tracker = (*UTXOClient)(nil)

// codeNoTx is the nodes' JSON-RPC error for a transaction they do not know
// (RPC_INVALID_ADDRESS_OR_KEY; btcd's ErrRPCNoTxInfo has the same number).
const codeNoTx = -5

// Lookup implements Tracker with getrawtransaction (verbose): its
// confirmations, and the height of its block from getblockheader. For a
// transaction the node does not know, its inputs (from the signed bytes)
// are asked with gettxout, mempool included: one already spent means
// another transaction spent it (Dropped: a double spend won); all unspent
// means the same bytes are still valid (Missing). The nodes need -txindex
// to find a mined transaction that is not the wallet's. The fee is not
// reported: it needs every input's previous output.
func (c *UTXOClient) Lookup(ctx context.Context, txID, txData string) (_ Outcome, err error) {
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
		return c.inputsSpent(ctx, txData)
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

// inputsSpent tells a transaction the node does not know Dropped (an input
// is spent elsewhere) or Missing (all of them are unspent), from its signed
// bytes; Unknown without them.
func (c *UTXOClient) inputsSpent(ctx context.Context, txData string) (Outcome, error) {
	raw, err := hex.DecodeString(strings.TrimSpace(txData))
	tx := new(wire.MsgTx)
	if err != nil || len(raw) == 0 || tx.Deserialize(bytes.NewReader(raw)) != nil || len(tx.TxIn) == 0 {
		return Outcome{Progress: Unknown}, nil
	}
	for _, in := range tx.TxIn {
		prev := in.PreviousOutPoint
		var out *struct{}
		code, msg, err := c.call(ctx, "gettxout", []any{prev.Hash.String(), prev.Index, true}, &out)
		switch {
		case err != nil:
			return Outcome{}, err
		case msg != "":
			return Outcome{}, fmt.Errorf("%w: gettxout: %s (code %d)", ErrUnavailable, msg, code)
		case out == nil:
			return Outcome{Progress: Dropped, Error: fmt.Sprintf("input %s was spent by another transaction", prev)}, nil
		}
	}
	return Outcome{Progress: Missing}, nil
}
