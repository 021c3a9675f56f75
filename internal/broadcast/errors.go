package broadcast

import "errors"

var (
	// ErrNoNode is matched by NoNodeError: no node is configured for a chain and network.
	ErrNoNode = errors.New("no node configured")
	// ErrNoDialer is returned when a node is configured for a chain that has no node client yet.
	ErrNoDialer = errors.New("no node client for chain")
	// ErrBadNode is returned for a node setting that cannot be used.
	ErrBadNode = errors.New("invalid node setting")
	// ErrRejected is wrapped by clients when the node refused the transaction.
	ErrRejected = errors.New("node rejected the transaction")
	// ErrPermanent is wrapped, beside ErrRejected, when the node's refusal is
	// one no retry will heal: the sequence is already used or below the
	// account's ("nonce too low", XRP tefPAST_SEQ, XLM tx_bad_seq), the
	// account cannot pay, the transaction is malformed for the node. A caller
	// ends the transaction's attempts on it; a plain ErrRejected or
	// ErrUnavailable may heal and is retried with backoff.
	ErrPermanent = errors.New("the node's refusal is permanent")
	// ErrUnavailable is wrapped by clients when the node could not be reached or answered garbage.
	ErrUnavailable = errors.New("node unavailable")
)

// NoNodeError names the chain and network that have no node configured.
type NoNodeError struct {
	Chain, Network string
}

func (e *NoNodeError) Error() string {
	return "no node configured for " + e.Chain + " " + e.Network +
		" (set --node " + e.Chain + nodeSuffix(e.Network) + "=URL or CUSTOS_NODE_" + e.Chain + envSuffix(e.Network) + ")"
}

// Is makes errors.Is(err, ErrNoNode) hold.
func (e *NoNodeError) Is(target error) bool { return target == ErrNoNode }

func nodeSuffix(network string) string {
	if network == "testnet" {
		return ":testnet"
	}
	return ""
}

func envSuffix(network string) string {
	if network == "testnet" {
		return "_TESTNET"
	}
	return ""
}
