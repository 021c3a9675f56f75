package broadcast

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/custoskms/custos/internal/chain/sol"
)

var _ sol.Node = (*SolanaClient)(nil)

// solanaCommitment is the commitment the blockhash is read and checked at:
// "confirmed" is what Solana recommends for fetching a blockhash (a
// finalized one is some 32 slots older and expires that much sooner), and a
// confirmed block is practically never dropped.
const solanaCommitment = "confirmed"

// LatestBlockhash asks getLatestBlockhash for the blockhash a queued
// message is completed with.
func (c *SolanaClient) LatestBlockhash(ctx context.Context) (_ [32]byte, err error) {
	defer scrub(&err, c.node.raw)
	var v struct {
		Blockhash string `json:"blockhash"`
	}
	if err := c.call(ctx, "getLatestBlockhash", []any{map[string]string{"commitment": solanaCommitment}}, &v); err != nil {
		return [32]byte{}, err
	}
	b := base58.Decode(v.Blockhash)
	if len(b) != 32 {
		return [32]byte{}, fmt.Errorf("%w: getLatestBlockhash answered no 32-byte blockhash", ErrUnavailable)
	}
	return [32]byte(b), nil
}

// BlockhashValid asks isBlockhashValid whether a message with hash can still
// be processed.
func (c *SolanaClient) BlockhashValid(ctx context.Context, hash [32]byte) (_ bool, err error) {
	defer scrub(&err, c.node.raw)
	var v *bool
	if err := c.call(ctx, "isBlockhashValid", []any{base58.Encode(hash[:]), map[string]string{"commitment": solanaCommitment}}, &v); err != nil {
		return false, err
	}
	if v == nil {
		return false, fmt.Errorf("%w: isBlockhashValid answered no value", ErrUnavailable)
	}
	return *v, nil
}

// call makes a read JSON-RPC call whose result is {context, value} and
// decodes value into out. A JSON-RPC error here is the node failing to
// answer, not a refusal of a transaction.
func (c *SolanaClient) call(ctx context.Context, method string, params []any, out any) error {
	var res struct {
		Result *struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Error *jsonRPCErr `json:"error"`
	}
	req := map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
	if err := c.node.postJSON(ctx, "", req, &res); err != nil {
		return err
	}
	switch {
	case res.Error != nil:
		return fmt.Errorf("%w: %s: %s (code %d)", ErrUnavailable, method, res.Error.Message, res.Error.Code)
	case res.Result == nil || res.Result.Value == nil:
		return fmt.Errorf("%w: %s answered neither result nor error", ErrUnavailable, method)
	}
	if err := json.Unmarshal(res.Result.Value, out); err != nil {
		return fmt.Errorf("%w: %s answered an unexpected value", ErrUnavailable, method)
	}
	return nil
}
