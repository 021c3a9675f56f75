package api

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
)

// fillFromNode completes a validated transaction from the chain's node when
// the chain can leave fields out and did. A transaction that stays incomplete
// is refused here rather than stored: no signer could ever sign it.
func (s *Server) fillFromNode(ctx context.Context, code string, testnet bool, serialized string) (string, error) {
	c, err := s.lookupChain(code)
	if err != nil {
		return "", invalid("chain: " + err.Error())
	}
	cp, ok := c.(chain.Completer)
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
	var out string
	result, err := s.askNode(ctx, code, testnet, missing, func(ctx context.Context, node broadcast.Client) (err error) {
		out, err = cp.CompleteFromNode(ctx, s.capGas(code, node), serialized, testnet, s.extraChainIDs[testnet][code]...)
		return err
	})
	if result != "" {
		s.metrics.completions.WithLabelValues(code, result).Inc()
	}
	return out, err
}

// askNode runs ask with the chain's node client for the network, within the
// broadcast timeout, and maps what goes wrong to the API's errors: no node
// configured (missing names what the node would have filled), a transaction
// the node or the chain refuses (400), or a node that could not be asked
// (502). result is the completion metric's label ("" when no node was asked).
func (s *Server) askNode(ctx context.Context, code string, testnet bool, missing []string, ask func(context.Context, broadcast.Client) error) (result string, err error) {
	network := chain.NetworkName(testnet)
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
	err = ask(cctx, node)
	result = "ok"
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
	return result, err
}
