package egld

import "github.com/custoskms/custos/internal/chain"

var _ chain.NodeGateway = (*Chain)(nil)

// NodeReads implements chain.NodeGateway: signEgldKMSTransaction reads the
// network config and the sender's nonce, and asks the gas of the
// transaction (a simulation: nothing is sent).
func (c *Chain) NodeReads() []string {
	return []string{"GET network/config", "GET address/*/nonce", "GET address/*", "GET address/*/balance",
		"POST transaction/cost"}
}
