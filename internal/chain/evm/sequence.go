package evm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/chain"
)

var (
	_ chain.Sequencer = (*Chain)(nil)
	_ chain.Filler    = (*Chain)(nil)
)

// Sequence returns the transaction's sender, the lower-case hex of its
// `from` ("" when it names none), and its nonce (nil when left out). A
// transaction without a nonce must name its sender: the server allocates
// that account's next nonce. A native transaction always carries its nonce
// inside its RLP and names no sender.
func (c *Chain) Sequence(serialized string, _ bool) (string, *uint64, error) {
	t, err := c.ParseTx(serialized)
	if err != nil {
		return "", nil, err
	}
	return t.sequence()
}

// sequence is Sequence of t.
func (t *Tx) sequence() (string, *uint64, error) {
	sender := ""
	if t.From != nil {
		sender = strings.ToLower(t.From.Hex())
	}
	if t.Nonce == nil && sender == "" {
		return "", nil, fmt.Errorf("%w: %w: nonce is missing and the sender is unknown: give nonce, or from", chain.ErrInvalidTx, ErrIncompleteTx)
	}
	return sender, t.Nonce, nil
}

// WithSequence returns the Tatum-format transaction with its nonce set, as
// a hex string ("0x1f": Tatum's SDK reads a numeric 0 as "no nonce" and
// would replace it, a string it keeps; docs/design.md §4.10); every other
// field is kept as written. A native transaction cannot
// be renumbered: its nonce is part of what the application built.
func (c *Chain) WithSequence(serialized string, seq uint64) (string, error) {
	if !strings.HasPrefix(strings.TrimSpace(serialized), "{") {
		return "", fmt.Errorf("%w: a native transaction carries its own nonce", chain.ErrInvalidTx)
	}
	raw, err := decodeTatum(serialized)
	if err != nil {
		return "", err
	}
	raw["nonce"], _ = json.Marshal(fmt.Sprintf("%#x", seq))
	return encodeTatum(raw)
}

// NextSequence asks node (it must implement Node) for the sender's pending
// transaction count: the nonce its next transaction takes as the node sees it.
func (c *Chain) NextSequence(ctx context.Context, node any, sender string) (uint64, error) {
	n, ok := node.(Node)
	if !ok {
		return 0, fmt.Errorf("the %s node client cannot tell nonces (no eth_getTransactionCount)", c.info.Code)
	}
	if !common.IsHexAddress(sender) {
		return 0, fmt.Errorf("%w: sender %q is not an address", chain.ErrInvalidTx, sender)
	}
	next, err := n.PendingNonceAt(ctx, common.HexToAddress(sender))
	if err != nil {
		return 0, fmt.Errorf("node eth_getTransactionCount: %w", err)
	}
	return next, nil
}

// Filler is the transaction that takes a freed nonce so that the sender's
// later ones can be mined: a zero-value transfer from sender to itself at
// seq, left for the node to complete (gas, gas price, chain id) like any
// queued transaction.
func (c *Chain) Filler(sender string, seq uint64) (string, error) {
	if !common.IsHexAddress(sender) {
		return "", fmt.Errorf("%w: sender %q is not an address", chain.ErrInvalidTx, sender)
	}
	raw := map[string]json.RawMessage{}
	for k, v := range map[string]string{"from": sender, "to": sender, "value": "0", "nonce": fmt.Sprintf("%#x", seq)} {
		raw[k], _ = json.Marshal(v)
	}
	return encodeTatum(raw)
}

// decodeTatum reads a Tatum-format transaction's fields as written (numbers
// kept as their text), so that a rewrite changes only what it sets.
func decodeTatum(serialized string) (map[string]json.RawMessage, error) {
	raw := map[string]json.RawMessage{}
	dec := json.NewDecoder(strings.NewReader(serialized))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: %w", chain.ErrInvalidTx, err)
	}
	return raw, nil
}

// encodeTatum writes fields back as one JSON object (keys sorted, no HTML escaping).
func encodeTatum(raw map[string]json.RawMessage) (string, error) {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(raw); err != nil {
		return "", fmt.Errorf("encode transaction: %w", err)
	}
	return strings.TrimSuffix(out.String(), "\n"), nil
}
