package api

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
)

// Completer is a chain whose queued transactions may leave out fields that
// only the chain's node knows (an EVM nonce, gas, gas price or chain id). The
// signer has no node, so the server fills them at POST /v3/kms before the
// transaction is stored (docs/design.md §4.8). It is optional, found on the
// chain by type assertion like chain.TxValidator.
type Completer interface {
	// MissingFields names the fields serialized lacks; nil when complete.
	MissingFields(serialized string) ([]string, error)
	// CompleteFromNode returns serialized with those fields filled from node,
	// the chain's node client for the API key's network. Errors wrap
	// chain.ErrInvalidTx or chain.ErrWrongNetwork when the transaction cannot
	// be completed as given, broadcast.ErrRejected when the node refuses it,
	// and anything else when the node could not be asked. extra are chain ids
	// accepted beyond the public ones, from the server's configuration.
	CompleteFromNode(ctx context.Context, node any, serialized string, testnet bool, extra ...uint64) (string, error)
}

// fillFromNode completes a validated transaction from the chain's node when
// the chain can leave fields out and did. A transaction that stays incomplete
// is refused here rather than stored: no signer could ever sign it.
func (s *Server) fillFromNode(ctx context.Context, code string, testnet bool, serialized string) (string, error) {
	c, err := s.lookupChain(code)
	if err != nil {
		return "", invalid("chain: " + err.Error())
	}
	cp, ok := c.(Completer)
	if !ok {
		return serialized, nil
	}
	missing, err := cp.MissingFields(serialized)
	if err != nil {
		return "", invalid("serializedTransaction: " + err.Error())
	}
	if len(missing) == 0 {
		return serialized, nil
	}
	network := "mainnet"
	if testnet {
		network = "testnet"
	}
	node, err := s.nodeClient(code, testnet)
	if err != nil {
		var none *broadcast.NoNodeError
		if errors.As(err, &none) {
			return "", invalid(fmt.Sprintf("serializedTransaction: missing %s: give them in the transaction, or configure a node to complete it; %v",
				strings.Join(missing, ", "), none))
		}
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, s.broadcastTimeout)
	defer cancel()
	out, err := cp.CompleteFromNode(cctx, node, serialized, testnet, s.extraChainIDs[testnet][code]...)
	result := "ok"
	switch {
	case err == nil:
	case errors.Is(err, chain.ErrInvalidTx), errors.Is(err, chain.ErrWrongNetwork):
		result = "refused"
		err = invalid("serializedTransaction: " + err.Error())
	case errors.Is(err, broadcast.ErrRejected):
		result = "refused"
		err = invalid(fmt.Sprintf("serializedTransaction: the %s %s node cannot complete it: %v", code, network, err))
	default:
		result = "unavailable"
		if !errors.Is(err, broadcast.ErrUnavailable) {
			err = fmt.Errorf("%w: %w", broadcast.ErrUnavailable, err)
		}
		s.log.WarnContext(ctx, "completing a transaction from the node failed", "chain", code, "testnet", testnet, "err", err)
	}
	s.metrics.completions.WithLabelValues(code, result).Inc()
	if err != nil {
		return "", err
	}
	return out, nil
}
