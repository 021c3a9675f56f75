package sol

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Windowed = (*Chain)(nil)

var _ chain.Completer = (*Chain)(nil)

// fieldBlockhash names the message's recent blockhash in errors and MissingFields.
const fieldBlockhash = "recentBlockhash"

// Node is the part of a Solana JSON-RPC node that completion and the expiry
// check ask: getLatestBlockhash and isBlockhashValid.
type Node interface {
	LatestBlockhash(ctx context.Context) ([32]byte, error)
	BlockhashValid(ctx context.Context, hash [32]byte) (bool, error)
}

// unset reports whether the message's recent blockhash is all zeros: no
// cluster has such a block, so a message queued with it asks the server to
// fill the blockhash from its node, in either form.
func unset(raw []byte, m *message) bool {
	for _, b := range raw[m.blockhash : m.blockhash+32] {
		if b != 0 {
			return false
		}
	}
	return true
}

// MissingFields is [recentBlockhash] for a message whose blockhash is all
// zeros, nil otherwise.
func (c *Chain) MissingFields(serialized string) ([]string, error) {
	raw, m, err := decodeMessage(serialized)
	if err != nil {
		return nil, err
	}
	if unset(raw, m) {
		return []string{fieldBlockhash}, nil
	}
	return nil, nil
}

// CompleteFromNode sets an all-zero recent blockhash to the node's latest
// (getLatestBlockhash, commitment "confirmed") and returns the transaction in
// the form it came in. node must answer Node's methods. The blockhash is
// valid for about 150 blocks (a minute or so); see Expired.
func (c *Chain) CompleteFromNode(ctx context.Context, node any, serialized string, _ bool, _ ...uint64) (string, error) {
	return complete(ctx, node, serialized)
}

// Expired reports whether the message's blockhash is no longer valid on the
// node's cluster (isBlockhashValid), after which no node accepts the
// transaction. An all-zero blockhash is not expired: it is missing.
func (c *Chain) Expired(ctx context.Context, node any, serialized string) (bool, error) {
	raw, m, err := decodeMessage(serialized)
	if err != nil || unset(raw, m) {
		return false, err
	}
	n, err := asNode(node)
	if err != nil {
		return false, err
	}
	valid, err := n.BlockhashValid(ctx, [32]byte(raw[m.blockhash:m.blockhash+32]))
	return !valid, err
}

func asNode(node any) (Node, error) {
	n, ok := node.(Node)
	if !ok {
		return nil, fmt.Errorf("the SOL node client cannot complete transactions (no getLatestBlockhash, isBlockhashValid)")
	}
	return n, nil
}

// decodeMessage decodes either form and parses its message.
func decodeMessage(serialized string) ([]byte, *message, error) {
	raw, _, err := decodeTx(serialized)
	if err != nil {
		return nil, nil, err
	}
	m, err := parseMessage(raw)
	if err != nil {
		return nil, nil, chain.InvalidTx("Solana message: %s", err.Error())
	}
	return raw, m, nil
}

func complete(ctx context.Context, node any, serialized string) (string, error) {
	raw, m, err := decodeMessage(serialized)
	if err != nil {
		return "", err
	}
	if !unset(raw, m) {
		return serialized, nil
	}
	n, err := asNode(node)
	if err != nil {
		return "", err
	}
	h, err := n.LatestBlockhash(ctx)
	if err != nil {
		return "", err
	}
	if h == ([32]byte{}) {
		return "", fmt.Errorf("the SOL node answered an all-zero blockhash")
	}
	out := append([]byte(nil), raw...)
	copy(out[m.blockhash:], h[:])
	if !chain.LooksLikeJSONObject(serialized) {
		return base64.StdEncoding.EncodeToString(out), nil
	}
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return "", err
	}
	o["txData"], _ = json.Marshal(hex.EncodeToString(out))
	b, err := json.Marshal(o)
	if err != nil {
		return "", fmt.Errorf("encode SOL transaction: %w", err)
	}
	return string(b), nil
}
